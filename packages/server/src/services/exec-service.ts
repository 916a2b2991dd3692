import type {
  ExecFrame,
  ExecRequest,
  ExecRequestBody,
  ExecResultBody,
  ProcessBody,
  ProcessInfo,
  SignalRequest,
  StartProcessBody,
  TerminalSizeBody,
} from "@ciab/protocol";
import type { Principal } from "./auth-service.js";
import type { SandboxService } from "./sandbox-service.js";

/** A string command runs through the image's POSIX shell, so any image works (bash may be absent). */
export function toAgentCommand(command: string | string[]): string[] {
  return typeof command === "string" ? ["/bin/sh", "-c", command] : command;
}

export function toAgentExecRequest(body: ExecRequestBody): ExecRequest {
  const request: ExecRequest = { command: toAgentCommand(body.command) };
  if (body.cwd !== undefined) request.cwd = body.cwd;
  if (body.env !== undefined) request.env = body.env;
  if (body.timeout_ms !== undefined) request.timeoutMs = body.timeout_ms;
  if (body.stdin !== undefined) request.stdin = body.stdin;
  return request;
}

export function processView(info: ProcessInfo): ProcessBody {
  const view: ProcessBody = {
    pid: info.pid,
    command: info.command,
    cwd: info.cwd,
    started_at: info.startedAt,
    running: info.running,
    exit_code: info.exitCode,
    signal: info.signal,
  };
  if (info.tag !== undefined) view.tag = info.tag;
  if (info.pty !== undefined) view.pty = info.pty;
  return view;
}

/**
 * A frame stream whose first frame has already arrived: a command that cannot start fails the request
 * itself (a typed HTTP error), not the middle of an event stream.
 */
export interface StartedFrames {
  first: ExecFrame | undefined;
  rest: AsyncIterator<ExecFrame>;
}

export async function startFrames(frames: AsyncIterable<ExecFrame>): Promise<StartedFrames> {
  const iterator = frames[Symbol.asyncIterator]();
  const first = await iterator.next();
  return { first: first.done ? undefined : first.value, rest: iterator };
}

/** Commands and background processes in a sandbox, through its agent. */
export function createExecService(sandboxes: SandboxService) {
  return {
    async run(principal: Principal, id: string, body: ExecRequestBody, signal?: AbortSignal): Promise<ExecResultBody> {
      const result = await sandboxes.withAgentActive(principal, id, (agent) => agent.exec(toAgentExecRequest(body), signal));
      return {
        exit_code: result.exitCode,
        signal: result.signal,
        stdout: result.stdout,
        stderr: result.stderr,
        timed_out: result.timedOut,
        duration_ms: result.durationMs,
        truncated: result.truncated,
      };
    },

    stream(principal: Principal, id: string, body: ExecRequestBody, signal: AbortSignal): Promise<StartedFrames> {
      return sandboxes.withAgentActive(principal, id, (agent) =>
        startFrames(touching(agent.execStream(toAgentExecRequest(body), signal), () => sandboxes.touch(id))),
      );
    },

    async startProcess(principal: Principal, id: string, body: StartProcessBody): Promise<ProcessBody> {
      const info = await sandboxes.withAgentActive(principal, id, (agent) =>
        agent.startProcess({
          command: toAgentCommand(body.command),
          ...(body.cwd !== undefined && { cwd: body.cwd }),
          ...(body.env !== undefined && { env: body.env }),
          ...(body.tag !== undefined && { tag: body.tag }),
          ...(body.pty !== undefined && { pty: body.pty }),
          ...(body.persist_output === true && { persistOutput: true }),
        }),
      );
      return processView(info);
    },

    async listProcesses(principal: Principal, id: string): Promise<ProcessBody[]> {
      const processes = await sandboxes.withAgent(principal, id, (agent) => agent.listProcesses());
      return processes.map(processView);
    },

    async getProcess(principal: Principal, id: string, pid: number): Promise<ProcessBody> {
      return processView(await sandboxes.withAgent(principal, id, (agent) => agent.getProcess(pid)));
    },

    async signalProcess(principal: Principal, id: string, pid: number, signal: SignalRequest["signal"]) {
      return processView(await sandboxes.withAgentActive(principal, id, (agent) => agent.signalProcess(pid, signal)));
    },

    writeStdin(principal: Principal, id: string, pid: number, data: Buffer, options: { close?: boolean } = {}) {
      return sandboxes.withAgentActive(principal, id, (agent) => agent.writeStdin(pid, data, undefined, options));
    },

    async resizeProcess(principal: Principal, id: string, pid: number, size: TerminalSizeBody): Promise<ProcessBody> {
      return processView(await sandboxes.withAgentActive(principal, id, (agent) => agent.resizeProcess(pid, size)));
    },

    /** Kept output then live output until exit; with `stdoutOffset`, stdout from that byte (persisted processes). */
    output(
      principal: Principal,
      id: string,
      pid: number,
      signal: AbortSignal,
      options: { stdoutOffset?: number | undefined } = {},
    ): Promise<StartedFrames> {
      return sandboxes.withAgent(principal, id, (agent) =>
        startFrames(agent.processOutput(pid, { follow: true, stdoutOffset: options.stdoutOffset }, signal)),
      );
    },
  };
}

export type ExecService = ReturnType<typeof createExecService>;

/** Passes frames through, noting each as traffic: a long command's output keeps its sandbox busy. */
async function* touching(frames: AsyncIterable<ExecFrame>, touch: () => void): AsyncGenerator<ExecFrame> {
  for await (const frame of frames) {
    touch();
    yield frame;
  }
}
