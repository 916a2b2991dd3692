import { createWriteStream, type WriteStream } from "node:fs";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { launchAgentd } from "./agentd-launch.js";
import { privateVariables, readJobSettings, type JobSettings } from "./job-settings.js";
import { auditLine, parsePiLine, piArguments, PiVerdict } from "./pi-run.js";
import { exitStatus, SupervisedChild } from "./supervised-child.js";

/**
 * The agent image's entrypoint (seed 002), run under tini: `JOB_PROMPT` set runs pi headless and exits with
 * its code; unset idles for `aws ecs execute-command`. SIGTERM reaches the agent's whole process group,
 * SIGKILL follows after the grace, and a hard cap ends any run.
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

const agentd =
  settings.channel === undefined
    ? undefined
    : launchAgentd({
        channel: settings.channel,
        runDirectory: process.env.CIAB_RUN_DIR ?? "/run/ciab",
        agentdPath: process.env.CIAB_AGENTD_PATH ?? "/opt/ciab/agentd.mjs",
        env: agentEnv,
        log,
      });

let stopRequested: (() => void) | undefined;
const stopping = new Promise<void>((resolve) => (stopRequested = resolve));
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

const status = settings.prompt === undefined ? await idle() : await runHeadless(settings.prompt);
agentd?.stop(settings.stopGraceSeconds);
process.exit(status);

async function idle(): Promise<number> {
  log("no JOB_PROMPT: idle, waiting for `aws ecs execute-command` (SIGTERM ends the task)");
  const keepAlive = setInterval(() => undefined, 60_000);
  await stopping;
  clearInterval(keepAlive);
  return 0;
}

async function runHeadless(prompt: string): Promise<number> {
  const child = new SupervisedChild("pi", piArguments(settings, prompt), { env: agentEnv, stdio: ["ignore", "pipe", "inherit"] });
  void stopping.then(() => child.stop(settings.stopGraceSeconds));
  const exited = child.exited.catch((error: Error) => {
    log(`pi did not start: ${error.message}`);
    return { code: 127, signal: null };
  });
  const output = settings.outputFile === undefined ? undefined : createWriteStream(settings.outputFile, { flags: "a", mode: 0o600 });
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
    await write(output, `${JSON.stringify({ type: "ciab.job_exit", exit_code: status })}\n`);
    output.end();
  }
  return status;
}

async function write(stream: NodeJS.WritableStream | WriteStream, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream, "drain");
}
