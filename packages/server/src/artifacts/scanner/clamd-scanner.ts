import net from "node:net";
import { Transform, type TransformCallback } from "node:stream";
import { CiabError } from "@ciab/protocol";
import type { ScanResult, ScanTap, Scanner } from "./scanner.js";

export interface ClamdScannerConfig {
  /** clamd's unix socket (`LocalSocket`). */
  clamd_socket?: string | undefined;
  /** `host:port` of clamd's TCP socket, when there is no unix socket. */
  clamd_address?: string | undefined;
  /** How long to wait for clamd to connect and, after the last byte, to answer. */
  timeoutMs?: number;
}

/** Longest answer read from clamd: a verdict line is short; anything longer is not clamd. */
const maxReplyBytes = 4096;

function unavailable(message: string, cause?: unknown): CiabError {
  return new CiabError("scanner_unavailable", `virus scanner unavailable: ${message}`, { cause, retryable: true });
}

/**
 * clamd's INSTREAM protocol: `zINSTREAM\0`, then chunks each prefixed by its length (4 bytes, big
 * endian), a zero length to finish, and one `\0`-ended answer: `stream: OK` or `stream: <name> FOUND`.
 */
export function createClamdScanner(config: ClamdScannerConfig): Scanner {
  if (config.clamd_socket === undefined && config.clamd_address === undefined) {
    throw new CiabError("invalid_request", "[artifacts] scan = true needs clamd_socket (CIAB_ARTIFACTS_CLAMD_SOCKET) or clamd_address");
  }
  const timeoutMs = config.timeoutMs ?? 120_000;
  return {
    async start(signal) {
      const socket = await connect(config, Math.min(timeoutMs, 10_000), signal);
      socket.write("zINSTREAM\0");
      return new ClamdTap(socket, timeoutMs);
    },
  };
}

function connect(config: ClamdScannerConfig, timeoutMs: number, signal: AbortSignal | undefined): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    let socket: net.Socket;
    if (config.clamd_socket !== undefined) socket = net.connect({ path: config.clamd_socket });
    else {
      const [host = "", port = ""] = config.clamd_address!.split(/:(?=\d+$)/);
      socket = net.connect({ host, port: Number(port) });
    }
    const timer = setTimeout(() => socket.destroy(unavailable("connecting to clamd timed out")), timeoutMs);
    const onAbort = (): void => void socket.destroy(unavailable("aborted"));
    signal?.addEventListener("abort", onAbort, { once: true });
    socket.once("connect", () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      resolve(socket);
    });
    socket.once("error", (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      reject(error instanceof CiabError ? error : unavailable(`cannot connect to clamd (${error.code ?? error.message})`, error));
    });
  });
}

class ClamdTap extends Transform implements ScanTap {
  readonly #socket: net.Socket;
  readonly #timeoutMs: number;
  readonly #reply: Promise<string>;
  #result: ScanResult | undefined;
  #flushing = false;

  constructor(socket: net.Socket, timeoutMs: number) {
    super({ highWaterMark: 1024 * 1024 });
    this.#socket = socket;
    this.#timeoutMs = timeoutMs;
    this.#reply = readReply(socket);
    // clamd answers early only to refuse (a size limit): the stream then fails instead of writing on.
    this.#reply.then(
      (reply) => {
        if (!this.#flushing) this.destroy(refusal(reply));
      },
      (error: unknown) => this.destroy(error as Error),
    );
  }

  get result(): ScanResult {
    if (this.#result === undefined) throw new Error("scan result read before the stream ended");
    return this.#result;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(chunk.length);
    this.#socket.write(length);
    if (this.#socket.write(chunk)) callback(null, chunk);
    else this.#socket.once("drain", () => callback(null, chunk));
  }

  override _flush(callback: TransformCallback): void {
    this.#flushing = true;
    this.#socket.write(Buffer.alloc(4));
    const timer = setTimeout(() => this.#socket.destroy(unavailable("clamd did not answer in time")), this.#timeoutMs);
    this.#reply.then(
      (reply) => {
        clearTimeout(timer);
        this.#socket.end();
        const found = /^stream: (.+) FOUND$/.exec(reply);
        if (found) this.#result = { status: "infected", signature: found[1]!.slice(0, 256) };
        else if (reply === "stream: OK") this.#result = { status: "clean" };
        else return callback(refusal(reply));
        callback();
      },
      (error: unknown) => {
        clearTimeout(timer);
        callback(error as Error);
      },
    );
  }

  override _destroy(error: Error | null, callback: (error: Error | null) => void): void {
    this.#socket.destroy();
    callback(error);
  }
}

function refusal(reply: string): CiabError {
  if (/size limit exceeded/i.test(reply)) return new CiabError("payload_too_large", "the file is larger than clamd's StreamMaxLength");
  return unavailable(`clamd answered: ${reply.slice(0, 200)}`);
}

function readReply(socket: net.Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (): void => {
      const text = Buffer.concat(chunks).toString("utf8");
      const end = text.indexOf("\0");
      resolve((end === -1 ? text : text.slice(0, end)).trim());
    };
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (chunk.includes(0) || size > maxReplyBytes) {
        socket.removeAllListeners("data");
        finish();
      }
    });
    socket.once("end", finish);
    socket.once("error", (error: NodeJS.ErrnoException) => reject(unavailable(`clamd connection failed (${error.code ?? error.message})`, error)));
    socket.once("close", () => reject(unavailable("clamd closed the connection without an answer")));
  });
}
