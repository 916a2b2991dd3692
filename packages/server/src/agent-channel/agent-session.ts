import http2, { type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders } from "node:http2";
import { Readable, type Duplex } from "node:stream";
import { pipeline } from "node:stream/promises";
import { CiabError, errorFromBody, wholeWrites } from "@ciab/protocol";
import { nativeSocketFor } from "./socket-bridge.js";

/** What a request sends; a Readable is streamed with HTTP/2 flow control, never buffered whole. */
export type RequestBody = Buffer | string | Readable;

export interface RequestOptions {
  body?: RequestBody | undefined;
  headers?: Record<string, string | number> | undefined;
  signal?: AbortSignal | undefined;
}

/** A successful (status < 400) answer whose body is still to be read from `stream`. */
export interface AgentResponse {
  status: number;
  headers: IncomingHttpHeaders;
  stream: ClientHttp2Stream;
}

/** A new connection must say which sandbox it serves within this long. */
const verifyTimeoutMs = 10_000;

/** Mirrors agentd's windows so downloads are not throttled to a round trip per 64 KiB either. */
const streamWindowBytes = 1024 * 1024;
const sessionWindowBytes = 16 * 1024 * 1024;

/**
 * One HTTP/2 session to agentd, opened on first use and reopened after it closed or failed. Requests
 * share it, so a unary call costs one stream, not a connection.
 */
export class AgentSession {
  readonly #connect: () => Promise<Duplex>;
  #session: ClientHttp2Session | undefined;
  #opening: Promise<ClientHttp2Session> | undefined;
  /** The session the last request used: a failure on it may just mean it died since. */
  #reused: ClientHttp2Session | undefined;
  #closed = false;

  readonly #expectedSandboxID: string | undefined;

  constructor(connect: () => Promise<Duplex>, expectedSandboxID?: string) {
    this.#connect = connect;
    this.#expectedSandboxID = expectedSandboxID;
  }

  /**
   * Sends one request and waits for its answer headers; error answers become their CiabError. A GET that
   * failed on a session which died unnoticed (agentd restarted) is sent once more on a fresh session.
   */
  async request(method: string, path: string, options: RequestOptions = {}): Promise<AgentResponse> {
    const session = await this.#current();
    const fresh = session !== this.#reused;
    this.#reused = session;
    try {
      return await this.#send(session, method, path, options);
    } catch (error) {
      if (!(error instanceof CiabError) || error.code !== "agent_unreachable" || fresh || method !== "GET") throw error;
      this.#drop(session);
      return this.#send(await this.#current(), method, path, options);
    }
  }

  /** The sandbox this channel's agentd must serve, when it is checked. */
  get expectedSandboxID(): string | undefined {
    return this.#expectedSandboxID;
  }

  /** A new connection to agentd beside the session, for the raw transports (raw tunnels and writes). */
  connectRaw(): Promise<Duplex> {
    if (this.#closed) return Promise.reject(new CiabError("agent_unreachable", "the agent client was closed"));
    return this.#connect();
  }

  /** Sends a JSON body (if any) and parses the JSON answer, refused past `maxBytes`. */
  async json<T>(method: string, path: string, body?: unknown, signal?: AbortSignal, maxBytes = answerLimits.small): Promise<T> {
    const response = await this.request(method, path, {
      body: body === undefined ? undefined : JSON.stringify(body),
      headers: body === undefined ? undefined : { "content-type": "application/json" },
      signal,
    });
    return readJSON<T>(response.stream, maxBytes, path);
  }

  /** Ends the session; later calls fail with `agent_unreachable`. */
  close(): void {
    this.#closed = true;
    const session = this.#session;
    this.#session = undefined;
    if (!session) return;
    session.close();
    setTimeout(() => session.destroy(), 1000).unref(); // streams that follow output would hold it open
  }

  async #current(): Promise<ClientHttp2Session> {
    if (this.#closed) throw new CiabError("agent_unreachable", "the agent client was closed");
    const session = this.#session;
    if (session && !session.closed && !session.destroyed) return session;
    this.#opening ??= this.#open().finally(() => (this.#opening = undefined));
    return this.#opening;
  }

  async #open(): Promise<ClientHttp2Session> {
    let duplex: Duplex;
    try {
      duplex = await nativeSocketFor(await this.#connect());
    } catch (error) {
      throw unreachable(error, "could not connect to agentd");
    }
    const session = http2.connect("http://agentd", {
      createConnection: () => duplex,
      // Large frames: a snapshot or download streams hundreds of MB from agentd, 16 KiB frames cost CPU per frame.
      settings: { initialWindowSize: streamWindowBytes, enablePush: false, maxFrameSize: 256 * 1024 },
      maxSessionMemory: 64,
    });
    session.on("error", () => this.#drop(session));
    session.once("close", () => this.#drop(session));
    session.once("goaway", () => this.#drop(session));
    session.once("connect", () => session.setLocalWindowSize(sessionWindowBytes));
    if (this.#expectedSandboxID !== undefined) await this.#verify(session, this.#expectedSandboxID);
    this.#session = session;
    return session;
  }

  /** Refuses a connection whose agentd serves another sandbox than the one it was opened for. */
  async #verify(session: ClientHttp2Session, sandboxID: string): Promise<void> {
    const response = await this.#send(session, "GET", "/v1/health", { signal: AbortSignal.timeout(verifyTimeoutMs) }).catch((error: unknown) => {
      this.#drop(session);
      throw error instanceof CiabError ? error : new CiabError("agent_unreachable", `the agent of sandbox ${sandboxID} did not say who it is`);
    });
    const health = await readJSON<{ sandboxID?: unknown } | null>(response.stream, answerLimits.small, "/v1/health").catch((error: unknown) => {
      this.#drop(session);
      throw error;
    });
    if (health?.sandboxID !== sandboxID) {
      this.#drop(session);
      throw new CiabError("agent_unreachable", `the agent socket of sandbox ${sandboxID} answered for ${typeof health?.sandboxID === "string" ? health.sandboxID.slice(0, 64) : "no sandbox"}`);
    }
  }

  #drop(session: ClientHttp2Session): void {
    if (this.#session === session) this.#session = undefined;
    if (!session.destroyed) session.destroy();
  }

  async #send(session: ClientHttp2Session, method: string, path: string, options: RequestOptions): Promise<AgentResponse> {
    const { body, signal } = options;
    signal?.throwIfAborted();
    let stream: ClientHttp2Stream;
    try {
      // CONNECT names its target in :authority and has no :path (RFC 9113 §8.5).
      const target = method === "CONNECT" ? { ":authority": path } : { ":path": path };
      stream = wholeWrites(
        session.request({ ":method": method, ...target, ...options.headers }, { endStream: body === undefined && method !== "CONNECT", ...(signal && { signal }) }),
      );
    } catch (error) {
      this.#drop(session);
      throw unreachable(error, "agentd connection lost");
    }
    let upload: Promise<unknown> | undefined;
    if (body instanceof Readable) upload = pipeline(body, stream).then(() => undefined, (error: unknown) => error);
    else if (body !== undefined) stream.end(body);

    const headers = await new Promise<IncomingHttpHeaders>((resolve, reject) => {
      const onResponse = (responseHeaders: IncomingHttpHeaders): void => {
        stream.off("error", onError).off("close", onClose);
        resolve(responseHeaders);
      };
      const onError = (error: unknown): void => {
        stream.off("response", onResponse).off("close", onClose);
        reject(toChannelError(error, signal));
      };
      const onClose = (): void => onError(new Error(`agentd closed the stream of ${path} without answering`));
      stream.once("response", onResponse).once("error", onError).once("close", onClose);
    });
    const status = Number(headers[":status"]);
    if (status >= 400) {
      const text = await readText(stream, answerLimits.error).catch(() => "");
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      throw errorFromBody(status, parsed);
    }
    if (upload) {
      const uploadError = await upload;
      if (uploadError !== undefined) throw toChannelError(uploadError, signal);
    }
    return { status, headers, stream };
  }
}

/**
 * The largest answers taken from agentd, by kind. Whatever listens on a sandbox's socket is treated as
 * untrusted: it could be the sandbox's own program, answering with gigabytes, so every read stops at its
 * limit and the request fails with `payload_too_large`; the connection stays usable.
 */
export const answerLimits = {
  /** Error bodies: only code and message are kept. */
  error: 64 * 1024,
  /** Health, one file entry, a write's answer. */
  small: 1024 * 1024,
  /** One process: it echoes its command, which may be as large as a JSON request body. */
  process: 16 * 1024 * 1024,
  /** Lists: processes, ports, directory entries. */
  list: 16 * 1024 * 1024,
  /** One-shot exec: stdout and stderr of up to execCaptureLimitBytes each, JSON-escaped. */
  exec: 48 * 1024 * 1024,
} as const;

/** Reads a whole answer as text, never more than `maxBytes`. */
export async function readText(stream: Readable, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) {
        stream.destroy();
        throw new CiabError("payload_too_large", `agentd answered with more than ${maxBytes} bytes`);
      }
      chunks.push(chunk);
    }
  } catch (error) {
    throw toChannelError(error, undefined);
  }
  return Buffer.concat(chunks, size).toString("utf8");
}

/** Reads and parses a JSON answer; an answer that is not JSON is a broken channel, which a retry may fix. */
export async function readJSON<T>(stream: Readable, maxBytes: number, path: string): Promise<T> {
  const text = await readText(stream, maxBytes);
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new CiabError("agent_unreachable", `agentd answered ${path.split("?")[0]} with invalid JSON`, { cause: error, retryable: true });
  }
}

/** Aborts stay aborts (the caller asked for them); everything else means the channel failed. */
export function toChannelError(error: unknown, signal: AbortSignal | undefined): unknown {
  if (error instanceof CiabError) return error;
  if (signal?.aborted) return signal.reason ?? error;
  if ((error as { name?: string }).name === "AbortError") return error;
  return unreachable(error, "agentd connection lost");
}

function unreachable(error: unknown, message: string): CiabError {
  const detail = error instanceof Error ? error.message : String(error);
  return new CiabError("agent_unreachable", `${message}: ${detail}`, { cause: error, retryable: true });
}
