import { EventEmitter } from "node:events";
import type { AttachControlMessage } from "@ciab/protocol";
// Type only: ws and the TLS and zlib modules it pulls in load when a process is attached, not with the SDK.
import type WebSocket from "ws";
import { CiabConnectionError, errorFromResponse, type CiabApiError } from "./errors.js";
import type { HttpClient } from "./http.js";
import { userAgent } from "./http.js";

export interface ProcessExit {
  exit_code: number | null;
  signal: string | null;
}

export interface AttachOptions {
  /** Resize the process's pty to this on attach (ignored for a process without one). */
  cols?: number;
  rows?: number;
  signal?: AbortSignal;
}

/** Unread output past this pauses the socket, so a consumer that reads slowly holds the server back, not memory. */
const outputHighWaterBytes = 1024 * 1024;

/**
 * A live connection to a process: `write` goes to its stdin, `output` yields what it prints (what the
 * server kept first), `exited` settles when it exits. `close()` detaches and leaves the process running.
 * Events: `exit` (ProcessExit), `error` (a CiabApiError the server reported, e.g. a failed resize), `close`.
 */
export class ProcessAttachment extends EventEmitter {
  /** Raw output bytes, in order; ends when the socket closes. Read it: unread output stops the stream. */
  readonly output: AsyncIterable<Buffer>;
  /** Resolves with the exit; rejects with CiabConnectionError if the socket closed first (detached). */
  readonly exited: Promise<ProcessExit>;
  readonly #socket: WebSocket;
  readonly #queue: Buffer[] = [];
  #queuedBytes = 0;
  #ended = false;
  #wake: (() => void) | undefined;

  private constructor(socket: WebSocket) {
    super();
    this.#socket = socket;
    let resolveExit!: (exit: ProcessExit) => void;
    let rejectExit!: (error: Error) => void;
    this.exited = new Promise<ProcessExit>((resolve, reject) => {
      resolveExit = resolve;
      rejectExit = reject;
    });
    this.exited.catch(() => undefined); // awaiting it is optional
    socket.on("message", (data: WebSocket.RawData, isBinary: boolean) => {
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer);
      if (isBinary) return this.#push(bytes);
      const message = JSON.parse(bytes.toString("utf8")) as AttachControlMessage;
      if (message.type === "exit") {
        const exit = { exit_code: message.exit_code, signal: message.signal };
        resolveExit(exit);
        this.emit("exit", exit);
      } else if (message.type === "error" && this.listenerCount("error") > 0) {
        this.emit("error", errorFromResponse(message.status, { error: { code: message.code, message: message.message } }));
      }
    });
    socket.on("error", () => undefined); // a broken connection also closes, which is what readers see
    socket.once("close", () => {
      this.#ended = true;
      this.#wake?.();
      rejectExit(new CiabConnectionError("connection_failed", "detached: the socket closed before the process exited"));
      this.emit("close");
    });
    this.output = { [Symbol.asyncIterator]: () => this.#read() };
  }

  /** Opens the socket; rejects with the server's typed error (`process_not_found`…) when it refuses. */
  static async open(http: HttpClient, path: string, options: AttachOptions = {}): Promise<ProcessAttachment> {
    const connection = await http.connection();
    const url = new URL(connection.url.replace(/^http/, "ws") + path);
    if (options.cols !== undefined && options.rows !== undefined) {
      url.searchParams.set("cols", String(options.cols));
      url.searchParams.set("rows", String(options.rows));
    }
    const headers: Record<string, string> = { "user-agent": userAgent };
    if (connection.token !== undefined) headers.authorization = `Bearer ${connection.token}`;
    const { default: WebSocketClient } = await import("ws");
    const socket = new WebSocketClient(url, { headers, perMessageDeflate: false });
    // Listening from the start: the first output can arrive in the same packet as the handshake's answer.
    const attachment = new ProcessAttachment(socket);
    const onAbort = (): void => socket.terminate();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once("open", resolve);
        socket.once("unexpected-response", (request, response) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("end", () => {
            reject(refusal(response.statusCode ?? 0, Buffer.concat(chunks).toString("utf8")));
            request.destroy();
          });
        });
        socket.once("error", (error) =>
          reject(new CiabConnectionError("connection_failed", `cannot attach at ${connection.url}: ${error.message}`, { cause: error })),
        );
      });
    } catch (error) {
      options.signal?.throwIfAborted();
      throw error;
    } finally {
      options.signal?.removeEventListener("abort", onAbort);
    }
    return attachment;
  }

  /** Sends bytes to the process's stdin (a pty turns Ctrl-C, `\x03`, into SIGINT). */
  write(data: string | Uint8Array): void {
    this.#socket.send(typeof data === "string" ? Buffer.from(data) : data, { binary: true });
  }

  resize(cols: number, rows: number): void {
    const message: AttachControlMessage = { type: "resize", cols, rows };
    this.#socket.send(JSON.stringify(message));
  }

  /** Detaches; the process runs on. Resolves once the socket closed. */
  async close(): Promise<void> {
    if (this.#socket.readyState === this.#socket.CLOSED) return;
    const closed = new Promise<void>((resolve) => this.#socket.once("close", () => resolve()));
    this.#socket.close(1000, "detached");
    await closed;
  }

  #push(bytes: Buffer): void {
    this.#queue.push(bytes);
    this.#queuedBytes += bytes.length;
    if (this.#queuedBytes > outputHighWaterBytes) this.#socket.pause();
    this.#wake?.();
  }

  async *#read(): AsyncGenerator<Buffer, void, undefined> {
    for (;;) {
      const next = this.#queue.shift();
      if (next !== undefined) {
        this.#queuedBytes -= next.length;
        if (this.#queuedBytes <= outputHighWaterBytes / 2 && this.#socket.isPaused) this.#socket.resume();
        yield next;
        continue;
      }
      if (this.#ended) return;
      await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#wake = undefined;
    }
  }
}

function refusal(status: number, text: string): CiabApiError {
  try {
    return errorFromResponse(status, JSON.parse(text) as unknown);
  } catch {
    return errorFromResponse(status, text);
  }
}
