import type { Context } from "hono";
import { z } from "zod";
import { CiabError, startProcessSchema, type ExecFrame, type ProcessBody } from "@ciab/protocol";
import type { Principal } from "../../services/auth-service.js";
import type { ExecService } from "../../services/exec-service.js";
import type { Logger } from "../../logger.js";
import { streamingAnswer, streamingRequest, unaryAnswer, unaryRequest, type MessageWriter } from "./connect-framing.js";

/**
 * envd's `process.Process` service onto our exec path: every E2B command is a background process of
 * agentd (`startProcess`), followed through its output, so it has a pid that `kill`, `sendStdin` and
 * `connect` can name, and it outlives a client that goes away, as on E2B. Policy, audit and the sandbox's
 * activity are the exec service's, unchanged.
 */
const selectorSchema = z.object({ pid: z.number().int().positive().optional(), tag: z.string().max(256).optional() });
const ptySchema = z.object({ size: z.object({ cols: z.number().int(), rows: z.number().int() }) });
const startSchema = z.object({
  process: z.object({
    cmd: z.string().min(1).max(4096),
    args: z.array(z.string()).max(10_000).default([]),
    envs: z.record(z.string(), z.string()).optional(),
    cwd: z.string().max(4096).optional(),
  }),
  pty: ptySchema.optional(),
  tag: z.string().max(256).optional(),
  stdin: z.boolean().optional(),
});
const connectSchema = z.object({ process: selectorSchema });
const signalSchema = z.object({
  process: selectorSchema,
  signal: z.union([z.enum(["SIGNAL_SIGTERM", "SIGNAL_SIGKILL"]), z.literal(15), z.literal(9)]),
});
const base64 = z.string().max(64 * 1024 * 1024).regex(/^[A-Za-z0-9+/_-]*={0,2}$/, "base64");
const sendInputSchema = z.object({ process: selectorSchema, input: z.object({ stdin: base64.optional(), pty: base64.optional() }) });
const updateSchema = z.object({ process: selectorSchema, pty: ptySchema.optional() });

/** Who calls envd, and for which sandbox: both from the access token. */
export interface EnvdContext {
  principal: Principal;
  sandboxID: string;
}

/** Seconds between keepalive messages on a long stream; the client asks with `Keepalive-Ping-Interval`. */
function keepaliveSeconds(c: Context): number | undefined {
  const asked = Number(c.req.header("keepalive-ping-interval"));
  return Number.isFinite(asked) && asked > 0 ? Math.min(Math.max(asked, 1), 300) : undefined;
}

function endEvent(frame: Extract<ExecFrame, { type: "exit" }>) {
  const exitCode = frame.exitCode ?? -1;
  const status = frame.exitCode !== null ? `exit status ${frame.exitCode}` : `signal: ${(frame.signal ?? "unknown").replace(/^SIG/, "").toLowerCase()}`;
  return { exitCode, exited: frame.exitCode !== null, status, ...(frame.timedOut && { error: "timed out" }) };
}

/** Our frames as envd's ProcessEvent messages, keepalives between them while the process is quiet. */
async function writeFrames(c: Context, exec: ExecService, context: EnvdContext, pid: number, pty: boolean, writer: MessageWriter) {
  const frames = await exec.output(context.principal, context.sandboxID, pid, writer.signal);
  const interval = keepaliveSeconds(c);
  const timer = interval ? setInterval(() => void writer.write({ event: { keepalive: {} } }).catch(() => undefined), interval * 1000) : undefined;
  try {
    const write = async (frame: ExecFrame) => {
      if (frame.type === "start") await writer.write({ event: { start: { pid: frame.pid } } });
      else if (frame.type === "exit") await writer.write({ event: { end: endEvent(frame) } });
      else await writer.write({ event: { data: { [pty ? "pty" : frame.type]: frame.data } } });
    };
    if (frames.first) await write(frames.first);
    for (let next = await frames.rest.next(); !next.done; next = await frames.rest.next()) await write(next.value);
  } finally {
    clearInterval(timer);
  }
}

async function resolvePid(exec: ExecService, context: EnvdContext, selector: z.infer<typeof selectorSchema>): Promise<number> {
  if (selector.pid !== undefined) return selector.pid;
  if (selector.tag === undefined) throw new CiabError("invalid_request", "name the process by pid or tag");
  const found = (await exec.listProcesses(context.principal, context.sandboxID)).find((process) => process.running && process.tag === selector.tag);
  if (!found) throw new CiabError("process_not_found", `no running process tagged ${selector.tag}`);
  return found.pid;
}

function processInfo(process: ProcessBody) {
  const [cmd = "", ...args] = process.command;
  return { config: { cmd, args, envs: {}, cwd: process.cwd }, pid: process.pid, ...(process.tag !== undefined && { tag: process.tag }) };
}

/** A signal to a process that has exited finds nothing to signal, which E2B's `kill` answers with false. */
function exitedIsGone(error: unknown): never {
  if (error instanceof CiabError && error.code === "invalid_state") throw new CiabError("process_not_found", error.message);
  throw error;
}

/** Unary methods throw; the envd router answers what they throw in Connect's error shape. */
export function processMethods(exec: ExecService, limitBytes: number, logger: Logger) {
  const unary = (handle: (c: Context, context: EnvdContext) => Promise<unknown>) => async (c: Context, context: EnvdContext) =>
    unaryAnswer(c, await handle(c, context));

  return {
    Start: async (c: Context, context: EnvdContext) => {
      const request = await streamingRequest(c, startSchema, limitBytes).catch((error: unknown) => error as Error);
      return streamingAnswer(c, logger, async (writer) => {
        if (request instanceof Error) throw request;
        const body = startProcessSchema.safeParse({
          command: [request.process.cmd, ...request.process.args],
          ...(request.process.cwd && { cwd: request.process.cwd }),
          ...(request.process.envs && Object.keys(request.process.envs).length > 0 && { env: request.process.envs }),
          ...(request.tag !== undefined && { tag: request.tag }),
          ...(request.pty && { pty: request.pty.size }),
        });
        if (!body.success) throw new CiabError("invalid_request", `invalid process: ${body.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ")}`);
        const started = await exec.startProcess(context.principal, context.sandboxID, body.data);
        // E2B gives a command no stdin unless asked (`stdin: true`): a reader of it sees end of file at once.
        const closing = request.stdin === true || request.pty ? undefined : exec.writeStdin(context.principal, context.sandboxID, started.pid, Buffer.alloc(0), { close: true });
        try {
          await writeFrames(c, exec, context, started.pid, request.pty !== undefined, writer);
        } finally {
          // A process that exited first has no stdin left to close: nothing to report.
          await closing?.catch(() => undefined);
        }
      });
    },

    Connect: async (c: Context, context: EnvdContext) => {
      const request = await streamingRequest(c, connectSchema, limitBytes).catch((error: unknown) => error as Error);
      return streamingAnswer(c, logger, async (writer) => {
        if (request instanceof Error) throw request;
        const pid = await resolvePid(exec, context, request.process);
        const process = await exec.getProcess(context.principal, context.sandboxID, pid);
        await writeFrames(c, exec, context, pid, process.pty !== undefined, writer);
      });
    },

    List: unary(async (c, context) => {
      await unaryRequest(c, z.object({}), limitBytes);
      const processes = await exec.listProcesses(context.principal, context.sandboxID);
      return { processes: processes.filter((process) => process.running).map(processInfo) };
    }),

    SendSignal: unary(async (c, context) => {
      const request = await unaryRequest(c, signalSchema, limitBytes);
      const pid = await resolvePid(exec, context, request.process);
      const signal = request.signal === "SIGNAL_SIGTERM" || request.signal === 15 ? "SIGTERM" : "SIGKILL";
      await exec.signalProcess(context.principal, context.sandboxID, pid, signal).catch(exitedIsGone);
      return {};
    }),

    SendInput: unary(async (c, context) => {
      const request = await unaryRequest(c, sendInputSchema, limitBytes);
      const pid = await resolvePid(exec, context, request.process);
      const data = Buffer.from(request.input.stdin ?? request.input.pty ?? "", "base64");
      await exec.writeStdin(context.principal, context.sandboxID, pid, data).catch(exitedIsGone);
      return {};
    }),

    CloseStdin: unary(async (c, context) => {
      const request = await unaryRequest(c, connectSchema, limitBytes);
      const pid = await resolvePid(exec, context, request.process);
      await exec.writeStdin(context.principal, context.sandboxID, pid, Buffer.alloc(0), { close: true }).catch(exitedIsGone);
      return {};
    }),

    Update: unary(async (c, context) => {
      const request = await unaryRequest(c, updateSchema, limitBytes);
      const pid = await resolvePid(exec, context, request.process);
      if (request.pty) await exec.resizeProcess(context.principal, context.sandboxID, pid, request.pty.size);
      return {};
    }),
  };
}
