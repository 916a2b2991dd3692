import { createWriteStream, type WriteStream } from "node:fs";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { launchAgentd } from "./agentd-launch.js";
import { lingerForCollection, prepareJobDirectory, waitForLaunch } from "./ciab-job.js";
import { jobExitLine, jobFiles } from "./job-files.js";
import { ciabVariables, privateVariables, readJobSettings, type JobSettings } from "./job-settings.js";
import { fetchSandboxEnv } from "./sandbox-config.js";
import { auditLine, parsePiLine, piArguments, PiVerdict } from "./pi-run.js";
import { exitStatus, SupervisedChild } from "./supervised-child.js";

/**
 * The agent image's entrypoint (seed 002), run under tini: `JOB_PROMPT` set runs pi headless and exits with
 * its code; unset idles for `aws ecs execute-command`. SIGTERM reaches the agent's whole process group,
 * SIGKILL follows after the grace, and a hard cap ends any run. With ciab's channel too, the prompt is a ciab
 * session's job: it starts once ciab prepared the work dir through agentd (docs/decisions/0038).
 */
const log = (message: string): void => void process.stderr.write(`ciab-agent: ${message}\n`);

let settings: JobSettings;
try {
  settings = readJobSettings(process.env);
} catch (error) {
  log((error as Error).message);
  process.exit(2);
}

const agentEnv: NodeJS.ProcessEnv = { ...process.env };
for (const name of privateVariables) delete agentEnv[name];
if (settings.configURL !== undefined) {
  try {
    const sandboxEnv = await fetchSandboxEnv(settings.configURL, log);
    for (const [name, value] of Object.entries(sandboxEnv)) if (!ciabVariables.has(name)) agentEnv[name] = value;
  } catch (error) {
    // Without its env the sandbox would run, silently, as another one than asked for.
    log((error as Error).message);
    process.exit(2);
  }
}

const runDirectory = process.env.CIAB_RUN_DIR ?? "/run/ciab";
const files = jobFiles(runDirectory);
const isCiabJob = settings.prompt !== undefined && settings.channel !== undefined;
if (isCiabJob) prepareJobDirectory(files);

const agentd =
  settings.channel === undefined
    ? undefined
    : launchAgentd({
        channel: settings.channel,
        runDirectory,
        agentdPath: process.env.CIAB_AGENTD_PATH ?? "/opt/ciab/agentd.mjs",
        env: agentEnv,
        log,
      });

let stopRequested: (() => void) | undefined;
let isStopping = false;
const stopping = new Promise<void>((resolve) => (stopRequested = resolve)).then(() => void (isStopping = true));
for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
  process.on(signal, () => {
    log(`${signal}: stopping`);
    stopRequested?.();
  });
}
setTimeout(() => {
  log(`the hard cap of ${settings.maxSeconds} s is reached: stopping`);
  stopRequested?.();
}, settings.maxSeconds * 1000).unref();

const status =
  settings.prompt === undefined ? await idle() : isCiabJob ? await runCiabJob(settings.prompt) : await runHeadless(settings.prompt, agentEnv, settings.outputFile);
agentd?.stop(settings.stopGraceSeconds);
process.exit(status);

async function idle(): Promise<number> {
  log("no JOB_PROMPT: idle, waiting for `aws ecs execute-command` (SIGTERM ends the task)");
  const keepAlive = setInterval(() => undefined, 60_000);
  await stopping;
  clearInterval(keepAlive);
  return 0;
}

/** 143 (SIGTERM's) when a stop comes before ciab handed the job over. */
async function runCiabJob(prompt: string): Promise<number> {
  log("waiting for ciab to prepare /workspace and hand over the job");
  let launchEnv: Record<string, string> | undefined;
  try {
    launchEnv = await waitForLaunch(files, () => isStopping);
  } catch (error) {
    log(`cannot read the job's launch file: ${(error as Error).message}`);
    return 2;
  }
  if (launchEnv === undefined) return 143;
  const status = await runHeadless(prompt, { ...agentEnv, ...launchEnv }, files.output);
  await lingerForCollection(files, () => isStopping, settings.lingerSeconds);
  return status;
}

async function runHeadless(prompt: string, env: NodeJS.ProcessEnv, outputFile: string | undefined): Promise<number> {
  const child = new SupervisedChild("pi", piArguments(settings, prompt), { env, stdio: ["ignore", "pipe", "inherit"] });
  void stopping.then(() => child.stop(settings.stopGraceSeconds));
  const exited = child.exited.catch((error: Error) => {
    log(`pi did not start: ${error.message}`);
    return { code: 127, signal: null };
  });
  const output = outputFile === undefined ? undefined : createWriteStream(outputFile, { flags: "a", mode: 0o600 });
  const verdict = new PiVerdict();
  const toolStarts = new Map<string, number>();
  for await (const line of createInterface({ input: child.process.stdout!, crlfDelay: Infinity })) {
    await write(process.stdout, `${line}\n`);
    if (output) await write(output, `${line}\n`);
    const event = parsePiLine(line);
    if (event === undefined) continue;
    verdict.observe(event);
    const audit = auditLine(event, toolStarts, Date.now());
    if (audit !== undefined) await write(process.stderr, `${audit}\n`);
  }
  let status = exitStatus(await exited);
  if (status === 0 && verdict.failure !== undefined) {
    log(`pi exited 0 after a failed model call: ${verdict.failure}`);
    status = 1;
  }
  if (output) {
    await write(output, `${jobExitLine(status)}\n`);
    await new Promise((resolve) => output.end(resolve));
  }
  return status;
}

async function write(stream: NodeJS.WritableStream | WriteStream, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream, "drain");
}
