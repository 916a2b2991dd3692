/** What the entrypoint reads from its environment: the contract of seed 002's agent image. */
export interface JobSettings {
  /** Set: run pi headless on it and exit with its code. Unset: idle for `aws ecs execute-command`. */
  prompt: string | undefined;
  provider: string | undefined;
  model: string | undefined;
  /** The hard cap on the task's life, headless or idle. */
  maxSeconds: number;
  /** SIGTERM to the agent, then this long before SIGKILL. */
  stopGraceSeconds: number;
  /** Where pi's JSON lines are also appended, ending with a `ciab.job_exit` line. */
  outputFile: string | undefined;
  /** A ciab job: after it, how long the task waits for ciab to take its exit status and stop it. */
  lingerSeconds: number;
  channel: ChannelSettings | undefined;
  /** ciab's single-use URL of the sandbox env, fetched once at start. */
  configURL: string | undefined;
}

/** ciab's reverse channel: agentd dials `url` with the one-time `token`. */
export interface ChannelSettings {
  url: string;
  token: string;
  sandboxID: string | undefined;
}

export const defaultMaxSeconds = 2 * 60 * 60;
export const defaultStopGraceSeconds = 30;
export const defaultLingerSeconds = 60;

/** Variables that only the entrypoint and agentd may see: never passed on to the agent. */
export const privateVariables = ["CIAB_CHANNEL_TOKEN", "JOB_PROMPT", "CIAB_CONFIG_URL"] as const;

/** What ciab itself sets in the task's overrides: the sandbox env it hands over never replaces these. */
export const ciabVariables = new Set([...privateVariables, "CIAB_CHANNEL_URL", "CIAB_SANDBOX_ID", "JOB_PROVIDER", "JOB_MODEL"]);

export function readJobSettings(env: NodeJS.ProcessEnv): JobSettings {
  const channelURL = nonEmpty(env.CIAB_CHANNEL_URL);
  const channelToken = nonEmpty(env.CIAB_CHANNEL_TOKEN);
  if ((channelURL === undefined) !== (channelToken === undefined)) {
    throw new Error("CIAB_CHANNEL_URL and CIAB_CHANNEL_TOKEN go together: set both or neither");
  }
  return {
    prompt: nonEmpty(env.JOB_PROMPT),
    provider: nonEmpty(env.JOB_PROVIDER),
    model: nonEmpty(env.JOB_MODEL),
    maxSeconds: positiveSeconds(env, "JOB_MAX_SECONDS", defaultMaxSeconds),
    stopGraceSeconds: positiveSeconds(env, "JOB_STOP_GRACE_SECONDS", defaultStopGraceSeconds),
    outputFile: nonEmpty(env.JOB_OUTPUT_FILE),
    lingerSeconds: positiveSeconds(env, "JOB_LINGER_SECONDS", defaultLingerSeconds),
    channel:
      channelURL === undefined || channelToken === undefined
        ? undefined
        : { url: channelURL, token: channelToken, sandboxID: nonEmpty(env.CIAB_SANDBOX_ID) },
    configURL: nonEmpty(env.CIAB_CONFIG_URL),
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value;
}

function positiveSeconds(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return fallback;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new Error(`${name}=${raw} is not a positive number of seconds`);
  return seconds;
}
