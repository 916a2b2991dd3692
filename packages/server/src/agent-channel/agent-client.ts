import { constants } from "node:http2";
import type { Readable, Duplex } from "node:stream";
import {
  agentRoutes,
  CiabError,
  type AgentHealth,
  type ExecFrame,
  type ExecRequest,
  type ExecResult,
  type FileEntry,
  type ListeningPort,
  type MkdirRequest,
  type ProcessInfo,
  type RemoveRequest,
  type RenameRequest,
  type SignalRequest,
  type StartProcessRequest,
  type TerminalSize,
} from "@ciab/protocol";
import { AgentSession, answerLimits, readJSON, type AgentResponse, type RequestBody } from "./agent-session.js";
import { limitStream } from "./limit-stream.js";
import { isSizedBody, RawWriteUnavailable, writeRaw, type SizedBody } from "./raw-write.js";
import { writtenEntry } from "./written-entry.js";
import { readFrames } from "./ndjson-frames.js";

export { waitForAgent, type WaitForAgentOptions } from "./wait-for-agent.js";

export interface AgentClientOptions {
  /** Opens a new byte stream to agentd; called again whenever the previous session closed or failed. */
  connect: () => Promise<Duplex>;
  /**
   * When set, every new connection first asks agentd which sandbox it serves and is refused unless it is
   * this one (a socket path inside a sandbox-writable dir can be swapped for a link to another agentd).
   */
  expectedSandboxID?: string;
}

/** A file being downloaded: the body streams from agentd as it is read. */
export interface AgentFile {
  stream: Readable;
  size: number;
  /** Permission bits, e.g. 0o644. */
  mode: number;
}

/**
 * The control plane's side of the agent channel (routes in @ciab/protocol agent/routes.ts). Failures to
 * reach agentd throw CiabError `agent_unreachable` (retryable); error answers throw their own code; an
 * aborted `signal` cancels the HTTP/2 stream and rejects with the abort reason.
 */
export interface AgentClient {
  health(signal?: AbortSignal): Promise<AgentHealth>;
  /** Runs a command to its end and returns its captured output. */
  exec(request: ExecRequest, signal?: AbortSignal): Promise<ExecResult>;
  /** Runs a command and yields its frames as they happen: start, output, exit last. Leaving the loop early kills it. */
  execStream(request: ExecRequest, signal?: AbortSignal): AsyncIterable<ExecFrame>;
  startProcess(request: StartProcessRequest, signal?: AbortSignal): Promise<ProcessInfo>;
  listProcesses(signal?: AbortSignal): Promise<ProcessInfo[]>;
  getProcess(pid: number, signal?: AbortSignal): Promise<ProcessInfo>;
  signalProcess(pid: number, signal: SignalRequest["signal"], abortSignal?: AbortSignal): Promise<ProcessInfo>;
  /** Writes to a process's stdin; with `close`, ends it afterwards (the process reads end of file). */
  writeStdin(pid: number, data: Buffer | string, signal?: AbortSignal, options?: { close?: boolean }): Promise<{ written: number }>;
  /**
   * Kept output of a background process, then (with `follow`) live output until its exit frame. With
   * `stdoutOffset` (persistOutput processes only), stdout from that byte of everything it wrote, each
   * stdout frame carrying its `offset`; stderr then comes live only.
   */
  processOutput(pid: number, options: ProcessOutputOptions, signal?: AbortSignal): AsyncIterable<ExecFrame>;
  /** Sets the terminal size of a pty process. */
  resizeProcess(pid: number, size: TerminalSize, signal?: AbortSignal): Promise<ProcessInfo>;
  listFiles(path: string, depth?: number, signal?: AbortSignal): Promise<FileEntry[]>;
  stat(path: string, signal?: AbortSignal): Promise<FileEntry>;
  readFile(path: string, signal?: AbortSignal): Promise<AgentFile>;
  /** Streams `body` into the file (parents created); `mode` like 0o644. */
  /** A sized body goes over a raw write when agentd takes one (see rawWriteGreeting), else as any other. */
  writeFile(path: string, body: RequestBody | SizedBody, mode?: number, signal?: AbortSignal): Promise<FileEntry>;
  mkdir(request: MkdirRequest, signal?: AbortSignal): Promise<FileEntry>;
  remove(request: RemoveRequest, signal?: AbortSignal): Promise<void>;
  rename(request: RenameRequest, signal?: AbortSignal): Promise<FileEntry>;
  ports(signal?: AbortSignal): Promise<ListeningPort[]>;
  /**
   * A byte tunnel to a loopback port inside the sandbox (previews): resolves once agentd connected, throws
   * `preview_unreachable` when nothing accepts there. Destroying the stream closes the connection.
   */
  connectPort(port: number, signal?: AbortSignal): Promise<Duplex>;
  /**
   * A gzip tarball of /workspace made by `tar` inside the sandbox. The stream errors (never ends cleanly)
   * when tar fails midway, so a reader that saw `end` holds a whole archive.
   */
  packWorkspace(signal?: AbortSignal): Promise<Readable>;
  /** Unpacks a gzip tarball into /workspace; `insufficient_storage` when the sandbox's disk fills. */
  unpackWorkspace(body: RequestBody, signal?: AbortSignal): Promise<void>;
  /** Ends the session; the client cannot be used afterwards. */
  close(): void;
}

export interface ProcessOutputOptions {
  follow: boolean;
  stdoutOffset?: number | undefined;
}

export function createAgentClient(options: AgentClientOptions): AgentClient {
  return new HTTP2AgentClient(new AgentSession(options.connect, options.expectedSandboxID));
}

function withPath(route: string, path: string, extra = ""): string {
  return `${route}?path=${encodeURIComponent(path)}${extra}`;
}

async function* framesOf(response: Promise<AgentResponse>, signal: AbortSignal | undefined): AsyncGenerator<ExecFrame> {
  const { stream } = await response;
  try {
    yield* readFrames(stream, signal);
  } finally {
    // Leaving early tells agentd to stop: it kills an exec, or stops following a process.
    if (!stream.closed) stream.close(constants.NGHTTP2_CANCEL);
  }
}

class HTTP2AgentClient implements AgentClient {
  readonly #session: AgentSession;

  constructor(session: AgentSession) {
    this.#session = session;
  }

  health(signal?: AbortSignal): Promise<AgentHealth> {
    return this.#session.json("GET", agentRoutes.health, undefined, signal);
  }

  exec(request: ExecRequest, signal?: AbortSignal): Promise<ExecResult> {
    return this.#session.json("POST", agentRoutes.exec, request, signal, answerLimits.exec);
  }

  execStream(request: ExecRequest, signal?: AbortSignal): AsyncIterable<ExecFrame> {
    const session = this.#session;
    return {
      [Symbol.asyncIterator]: () =>
        framesOf(
          session.request("POST", agentRoutes.execStream, {
            body: JSON.stringify(request),
            headers: { "content-type": "application/json" },
            signal,
          }),
          signal,
        ),
    };
  }

  startProcess(request: StartProcessRequest, signal?: AbortSignal): Promise<ProcessInfo> {
    return this.#session.json("POST", agentRoutes.processes, request, signal, answerLimits.process);
  }

  async listProcesses(signal?: AbortSignal): Promise<ProcessInfo[]> {
    return (await this.#session.json<{ processes: ProcessInfo[] }>("GET", agentRoutes.processes, undefined, signal, answerLimits.list)).processes;
  }

  getProcess(pid: number, signal?: AbortSignal): Promise<ProcessInfo> {
    return this.#session.json("GET", `${agentRoutes.processes}/${pid}`, undefined, signal, answerLimits.process);
  }

  signalProcess(pid: number, signal: SignalRequest["signal"], abortSignal?: AbortSignal): Promise<ProcessInfo> {
    return this.#session.json("POST", `${agentRoutes.processes}/${pid}/signal`, { signal }, abortSignal, answerLimits.process);
  }

  async writeStdin(
    pid: number,
    data: Buffer | string,
    signal?: AbortSignal,
    options: { close?: boolean } = {},
  ): Promise<{ written: number }> {
    const path = `${agentRoutes.processes}/${pid}/stdin${options.close ? "?close=1" : ""}`;
    const response = await this.#session.request("POST", path, { body: data, signal });
    return readJSON<{ written: number }>(response.stream, answerLimits.small, "stdin");
  }

  processOutput(pid: number, options: ProcessOutputOptions, signal?: AbortSignal): AsyncIterable<ExecFrame> {
    const session = this.#session;
    const query = new URLSearchParams();
    if (options.follow) query.set("follow", "1");
    if (options.stdoutOffset !== undefined) query.set("stdoutOffset", String(options.stdoutOffset));
    const path = `${agentRoutes.processes}/${pid}/output${query.size > 0 ? `?${query}` : ""}`;
    return { [Symbol.asyncIterator]: () => framesOf(session.request("GET", path, { signal }), signal) };
  }

  resizeProcess(pid: number, size: TerminalSize, signal?: AbortSignal): Promise<ProcessInfo> {
    return this.#session.json("POST", `${agentRoutes.processes}/${pid}/resize`, size, signal, answerLimits.process);
  }

  async listFiles(path: string, depth = 1, signal?: AbortSignal): Promise<FileEntry[]> {
    const route = withPath(agentRoutes.filesList, path, `&depth=${depth}`);
    return (await this.#session.json<{ entries: FileEntry[] }>("GET", route, undefined, signal, answerLimits.list)).entries;
  }

  stat(path: string, signal?: AbortSignal): Promise<FileEntry> {
    return this.#session.json("GET", withPath(agentRoutes.filesStat, path), undefined, signal);
  }

  async readFile(path: string, signal?: AbortSignal): Promise<AgentFile> {
    const response = await this.#session.request("GET", withPath(agentRoutes.filesContent, path), { signal });
    const length = response.headers["content-length"];
    const size = length === undefined ? Number.NaN : Number(length);
    const mode = Number.parseInt(String(response.headers["x-ciab-mode"] ?? "644"), 8);
    if (!Number.isSafeInteger(size) || size < 0) {
      response.stream.destroy();
      throw new CiabError("agent_unreachable", "agentd answered a file read without a valid length", { retryable: true });
    }
    // The body is not trusted to match its length: the download stops at `size` bytes.
    return { stream: limitStream(response.stream, size), size, mode: Number.isInteger(mode) && mode >= 0 && mode <= 0o7777 ? mode : 0o644 };
  }

  async writeFile(path: string, body: RequestBody | SizedBody, mode?: number, signal?: AbortSignal): Promise<FileEntry> {
    // What agentd must say it wrote, when the control plane knows it.
    const expectedSize = isSizedBody(body) ? body.length : Buffer.isBuffer(body) || typeof body === "string" ? Buffer.byteLength(body) : undefined;
    if (isSizedBody(body)) {
      try {
        return await writeRaw(() => this.#session.connectRaw(), this.#session.expectedSandboxID, path, mode, body, signal);
      } catch (error) {
        if (!(error instanceof RawWriteUnavailable)) throw error;
        body = body.stream;
      }
    }
    const route = withPath(agentRoutes.filesContent, path, mode === undefined ? "" : `&mode=${mode.toString(8)}`);
    const response = await this.#session.request("PUT", route, {
      body,
      headers: { "content-type": "application/octet-stream" },
      signal,
    });
    return writtenEntry(await readJSON<unknown>(response.stream, answerLimits.small, agentRoutes.filesContent), expectedSize);
  }

  mkdir(request: MkdirRequest, signal?: AbortSignal): Promise<FileEntry> {
    return this.#session.json("POST", agentRoutes.filesMkdir, request, signal);
  }

  async remove(request: RemoveRequest, signal?: AbortSignal): Promise<void> {
    await this.#session.json("POST", agentRoutes.filesRemove, request, signal);
  }

  rename(request: RenameRequest, signal?: AbortSignal): Promise<FileEntry> {
    return this.#session.json("POST", agentRoutes.filesRename, request, signal);
  }

  async ports(signal?: AbortSignal): Promise<ListeningPort[]> {
    return (await this.#session.json<{ ports: ListeningPort[] }>("GET", agentRoutes.ports, undefined, signal, answerLimits.list)).ports;
  }

  async connectPort(port: number, signal?: AbortSignal): Promise<Duplex> {
    return (await this.#session.request("CONNECT", `127.0.0.1:${port}`, { signal })).stream;
  }

  async packWorkspace(signal?: AbortSignal): Promise<Readable> {
    return (await this.#session.request("GET", agentRoutes.archive, { signal })).stream;
  }

  async unpackWorkspace(body: RequestBody, signal?: AbortSignal): Promise<void> {
    const response = await this.#session.request("PUT", agentRoutes.archive, {
      body,
      headers: { "content-type": "application/gzip" },
      signal,
    });
    await readJSON(response.stream, answerLimits.small, agentRoutes.archive);
  }

  close(): void {
    this.#session.close();
  }
}

