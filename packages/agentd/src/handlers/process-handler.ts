import type { ServerHttp2Stream } from "node:http2";
import { CiabError, type ExecFrame, type SignalRequest, type StartProcessRequest, type TerminalSize } from "../protocol.js";
import type { AgentRequest, Handler } from "../http/agent-request.js";
import { FrameWriter, ndjsonHeaders } from "../http/frame-writer.js";
import { readBody, readJSONBody } from "../http/read-body.js";
import { respondJSON } from "../http/respond.js";
import { optionalBoolean, optionalEnv, optionalString, requireCommand, requireString } from "../http/validate.js";
import type { FrameListener, ProcessService } from "../services/process-service.js";

const signals = new Set<string>(["SIGTERM", "SIGKILL", "SIGINT", "SIGHUP", "SIGSTOP", "SIGCONT", "SIGUSR1", "SIGUSR2"]);

/** A follower that falls this far behind is dropped rather than letting agentd's memory grow. */
const followerBacklogLimitBytes = 8 * 1024 * 1024;

export type ProcessHandlers = Record<"start" | "list" | "get" | "signal" | "stdin" | "resize" | "output", Handler>;

/** Largest pty side agentd accepts; terminals are far smaller, this only keeps stty's arguments sane. */
const maxTerminalSide = 10_000;

function requireTerminalSize(value: unknown, name: string): TerminalSize {
  const size = value as Partial<Record<"cols" | "rows", unknown>> | null;
  const valid = (side: unknown): side is number =>
    typeof side === "number" && Number.isInteger(side) && side > 0 && side <= maxTerminalSide;
  if (typeof size !== "object" || size === null || !valid(size.cols) || !valid(size.rows)) {
    throw new CiabError("invalid_request", `${name} must be { cols, rows } with positive integers up to ${maxTerminalSide}`);
  }
  return { cols: size.cols, rows: size.rows };
}

/**
 * Writes a follower's frames: ends the answer at the exit frame, and drops a follower that fell too far
 * behind (it can come back with the offset it reached). Resolves `done` when either happened.
 */
function createFollower(stream: ServerHttp2Stream, writer: FrameWriter) {
  let finish = (): void => undefined;
  const done = new Promise<void>((resolve) => (finish = resolve));
  stream.once("close", finish);
  const deliver: FrameListener = (frame) => {
    writer.write(frame);
    if (frame.type === "exit") {
      writer.end();
      finish();
    } else if (writer.buffered > followerBacklogLimitBytes) {
      stream.close();
      finish();
    }
  };
  return { deliver, done };
}

export function createProcessHandlers(processes: ProcessService): ProcessHandlers {
  return {
    start: async ({ stream }) => {
      const body = await readJSONBody(stream);
      const request: StartProcessRequest = { command: requireCommand(body) };
      const cwd = optionalString(body, "cwd");
      const env = optionalEnv(body);
      const tag = optionalString(body, "tag");
      if (cwd !== undefined) request.cwd = cwd;
      if (env !== undefined) request.env = env;
      if (tag !== undefined) request.tag = tag;
      if (optionalBoolean(body, "persistOutput")) request.persistOutput = true;
      if (body.pty !== undefined && body.pty !== null) request.pty = requireTerminalSize(body.pty, "pty");
      respondJSON(stream, await processes.start(request));
    },

    list: async ({ stream }) => {
      respondJSON(stream, { processes: processes.list() });
    },

    get: async ({ stream, pid }) => {
      respondJSON(stream, processes.get(pid));
    },

    signal: async ({ stream, pid }) => {
      const signal = requireString(await readJSONBody(stream), "signal");
      if (!signals.has(signal)) throw new CiabError("invalid_request", `unsupported signal ${signal}`);
      respondJSON(stream, processes.signal(pid, signal as SignalRequest["signal"]));
    },

    stdin: async ({ stream, pid, query }) => {
      processes.get(pid); // answer process_not_found before reading a body
      const close = query.get("close") === "1" || query.get("close") === "true";
      const data = await readBody(stream);
      const written = data.length > 0 || !close ? await processes.writeStdin(pid, data) : 0;
      if (close) processes.closeStdin(pid);
      respondJSON(stream, { written });
    },

    resize: async ({ stream, pid }) => {
      respondJSON(stream, await processes.resize(pid, requireTerminalSize(await readJSONBody(stream), "the body")));
    },

    output: async (request) => {
      const { stream, pid, query } = request;
      const follow = query.get("follow") === "1" || query.get("follow") === "true";
      const offsetParameter = query.get("stdoutOffset");
      if (offsetParameter !== null) {
        if (!/^\d+$/.test(offsetParameter)) throw new CiabError("invalid_request", "stdoutOffset must be a byte offset");
        return outputFromOffset(processes, request, Number(offsetParameter), follow);
      }
      const writer = new FrameWriter(stream);
      const { deliver, done } = createFollower(stream, writer);
      const subscription = processes.subscribe(pid, follow, deliver);
      try {
        stream.respond(ndjsonHeaders);
        for (const frame of subscription.replay) writer.write(frame);
        if (!subscription.live) writer.end();
        else await done;
      } finally {
        subscription.unsubscribe();
      }
    },
  };
}

/**
 * Stdout from a byte offset: what is on disk first, then what arrived meanwhile (held back until the disk
 * part was sent), then live frames. Every stdout frame carries its offset.
 */
async function outputFromOffset(
  processes: ProcessService,
  { stream, pid }: AgentRequest,
  offset: number,
  follow: boolean,
): Promise<void> {
  const writer = new FrameWriter(stream);
  const follower = createFollower(stream, writer);
  let held: ExecFrame[] | undefined = [];
  let heldBytes = 0;
  const subscription = processes.subscribeFromOffset(pid, offset, follow, (frame) => {
    if (held === undefined) return follower.deliver(frame);
    held.push(frame);
    heldBytes += frame.type === "stdout" || frame.type === "stderr" ? frame.data.length : 0;
    if (heldBytes > followerBacklogLimitBytes) stream.close();
  });
  try {
    stream.respond(ndjsonHeaders);
    writer.write(subscription.start);
    for (const frame of subscription.stderr) writer.write(frame);
    let position = subscription.stored.from;
    for await (const chunk of subscription.stored.read()) {
      if (!writer.open) return;
      const frame: ExecFrame = { type: "stdout", data: chunk.toString("base64"), encoding: "base64", offset: position };
      position += chunk.length;
      if (!writer.write(frame)) await waitForDrain(stream);
    }
    const backlog = held;
    held = undefined;
    for (const frame of backlog) follower.deliver(frame);
    if (subscription.live) return await follower.done;
    writer.end(subscription.exitFrame);
  } finally {
    subscription.unsubscribe();
  }
}

function waitForDrain(stream: ServerHttp2Stream): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off("drain", done);
      stream.off("close", done);
      resolve();
    };
    stream.once("drain", done);
    stream.once("close", done);
  });
}
