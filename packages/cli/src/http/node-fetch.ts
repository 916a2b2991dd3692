import { request as httpRequest, type IncomingMessage } from "node:http";
import { Readable } from "node:stream";

/**
 * The part of `fetch` the SDK uses, over node:http. Node's own fetch loads undici on first use, which
 * costs a short-lived CLI more than all of its own start-up; this one costs nothing to load.
 * Init headers are a plain record (the SDK's only shape); bodies are strings, bytes or a web stream.
 */
export async function nodeFetch(input: string | URL, init: RequestInit = {}): Promise<NodeResponse> {
  const url = new URL(input);
  const signal = init.signal ?? undefined;
  signal?.throwIfAborted();
  const request =
    url.protocol === "https:"
      ? (await import("node:https")).request
      : url.protocol === "http:"
        ? httpRequest
        : undefined;
  if (request === undefined) throw new TypeError(`fetch failed`, { cause: new Error(`unsupported protocol ${url.protocol}`) });
  const body = init.body as string | Uint8Array | ReadableStream<Uint8Array> | null | undefined;
  return new Promise<NodeResponse>((resolve, reject) => {
    const outgoing = request(url, { method: init.method ?? "GET", headers: init.headers as Record<string, string> | undefined });
    let received: IncomingMessage | undefined;
    // As with fetch, aborting also ends a body being read.
    const onAbort = (): void => {
      received?.destroy(signal!.reason as Error);
      outgoing.destroy(signal!.reason as Error);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    outgoing.once("response", (incoming) => {
      received = incoming;
      incoming.once("close", () => signal?.removeEventListener("abort", onAbort));
      resolve(new NodeResponse(incoming));
    });
    outgoing.once("error", (error) => {
      signal?.removeEventListener("abort", onAbort);
      reject(signal?.aborted ? signal.reason : new TypeError("fetch failed", { cause: error }));
    });
    if (body === undefined || body === null) outgoing.end();
    else if (typeof body === "string" || body instanceof Uint8Array) outgoing.end(body);
    else Readable.fromWeb(body as import("node:stream/web").ReadableStream<Uint8Array>).pipe(outgoing);
  });
}

/** What the SDK reads of a `Response`: status, headers, the body as a web stream or read whole. */
export class NodeResponse {
  readonly status: number;
  readonly ok: boolean;
  readonly headers: { get(name: string): string | null };
  readonly #incoming: IncomingMessage;
  #body: ReadableStream<Uint8Array> | undefined;

  constructor(incoming: IncomingMessage) {
    this.#incoming = incoming;
    this.status = incoming.statusCode ?? 0;
    this.ok = this.status >= 200 && this.status < 300;
    this.headers = {
      get: (name) => {
        const value = incoming.headers[name.toLowerCase()];
        return value === undefined ? null : Array.isArray(value) ? value.join(", ") : value;
      },
    };
  }

  get body(): ReadableStream<Uint8Array> {
    this.#body ??= Readable.toWeb(this.#incoming) as unknown as ReadableStream<Uint8Array>;
    return this.#body;
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of this.#incoming) chunks.push(chunk as Buffer);
    const whole = Buffer.concat(chunks);
    return whole.buffer.slice(whole.byteOffset, whole.byteOffset + whole.byteLength) as ArrayBuffer;
  }

  async text(): Promise<string> {
    return Buffer.from(await this.arrayBuffer()).toString("utf8");
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text()) as unknown;
  }
}
