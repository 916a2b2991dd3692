import { Readable } from "node:stream";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import type { FileEntryBody } from "@ciab/protocol";
import type { HttpClient } from "./http.js";

type Options = { signal?: AbortSignal };

/** What `files.read` answers. */
export interface ReadFileBody {
  path: string;
  encoding: "utf8" | "base64";
  content: string;
  size: number;
}

/** Bytes to upload: a Node stream is sent as it is read, never buffered whole. */
export type UploadSource = Readable | Uint8Array | string;

/**
 * Files of one sandbox. Paths are sandbox paths: absolute under /workspace, or relative to it.
 */
export class SandboxFiles {
  readonly #http: HttpClient;
  readonly #path: string;

  constructor(http: HttpClient, sandboxPath: string) {
    this.#http = http;
    this.#path = `${sandboxPath}/files`;
  }

  /** Entries of a directory; `depth` above 1 walks into subdirectories. */
  async list(path: string, options: Options & { depth?: number } = {}): Promise<FileEntryBody[]> {
    const { signal, depth } = options;
    const body = await this.#http.json<{ entries: FileEntryBody[] }>("GET", this.#path, {
      query: { path, depth },
      signal,
    });
    return body.entries;
  }

  stat(path: string, options: Options = {}): Promise<FileEntryBody> {
    return this.#http.json<FileEntryBody>("GET", `${this.#path}/stat`, { query: { path }, signal: options.signal });
  }

  /** A small file's content as text. */
  async read(path: string, options: Options = {}): Promise<string> {
    const body = await this.readBody(path, { ...options, encoding: "utf8" });
    return body.content;
  }

  /** A small file's content as bytes. */
  async readBytes(path: string, options: Options = {}): Promise<Buffer> {
    const body = await this.readBody(path, { ...options, encoding: "base64" });
    return Buffer.from(body.content, "base64");
  }

  /** The answer of `files/read` as is. */
  readBody(path: string, options: Options & { encoding?: "utf8" | "base64" } = {}): Promise<ReadFileBody> {
    const { signal, encoding } = options;
    return this.#http.json<ReadFileBody>("GET", `${this.#path}/read`, { query: { path, encoding }, signal });
  }

  /** Writes a small file in one JSON request (bytes go as base64); use `upload` for large ones. */
  write(path: string, content: string | Uint8Array, options: Options & { mode?: number } = {}): Promise<FileEntryBody> {
    const { signal, mode } = options;
    const json =
      typeof content === "string"
        ? { path, content, encoding: "utf8", mode }
        : { path, content: Buffer.from(content).toString("base64"), encoding: "base64", mode };
    return this.#http.json<FileEntryBody>("POST", `${this.#path}/write`, { json, signal });
  }

  /** Streams bytes into a file, creating its parents. */
  upload(path: string, source: UploadSource, options: Options & { mode?: number } = {}): Promise<FileEntryBody> {
    const body = source instanceof Readable ? (Readable.toWeb(source) as ReadableStream<Uint8Array>) : source;
    return this.#http.json<FileEntryBody>("PUT", `${this.#path}/upload`, {
      // The API reads a mode in a query as octal digits, as chmod does.
      query: { path, mode: options.mode?.toString(8) },
      body,
      signal: options.signal,
    });
  }

  /** A file's bytes as a Node stream, read from the network as the stream is consumed. */
  async download(path: string, options: Options = {}): Promise<Readable> {
    const response = await this.#http.send("GET", `${this.#path}/download`, {
      query: { path },
      signal: options.signal,
    });
    if (response.body === null) return Readable.from([]);
    return Readable.fromWeb(response.body as NodeReadableStream<Uint8Array>);
  }

  mkdir(path: string, options: Options & { mode?: number; parents?: boolean } = {}): Promise<FileEntryBody> {
    const { signal, ...rest } = options;
    return this.#http.json<FileEntryBody>("POST", `${this.#path}/mkdir`, { json: { path, ...rest }, signal });
  }

  rename(from: string, to: string, options: Options = {}): Promise<FileEntryBody> {
    return this.#http.json<FileEntryBody>("POST", `${this.#path}/rename`, {
      json: { from, to },
      signal: options.signal,
    });
  }

  async remove(path: string, options: Options & { recursive?: boolean } = {}): Promise<void> {
    const { signal, recursive } = options;
    await this.#http.json<{ removed: true }>("DELETE", this.#path, { query: { path, recursive }, signal });
  }
}
