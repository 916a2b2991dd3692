import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Ciab } from "./ciab.js";
import {
  AuthenticationError,
  CiabApiError,
  CiabConnectionError,
  InternalServerError,
  NotFoundError,
  SandboxFailedError,
} from "./errors.js";
import type { ExecEvent } from "./exec-events.js";

interface Recorded {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: Buffer;
}

type Handler = (request: IncomingMessage, response: ServerResponse, recorded: Recorded) => void | Promise<void>;

const sandbox = {
  id: "sbx_1",
  name: "one",
  state: "ready",
  runtime: "local",
  image: "host",
  network: "none",
  tags: {},
  env_keys: [],
  resources: {},
  failure: null,
  status_message: null,
  created_at: "2025-01-01T00:00:00Z",
  updated_at: "2025-01-01T00:00:00Z",
  ready_at: "2025-01-01T00:00:00Z",
};

let server: Server;
let url: string;
const handlers = new Map<string, Handler>();
const recorded: Recorded[] = [];
/** Lets a handler see the upload arrive while the client is still sending it. */
let onUploadChunk: ((chunk: Buffer) => void) | undefined;

function errorBody(code: string, message: string, context?: Record<string, unknown>): unknown {
  return { error: { code, message, ...(context && { context }) } };
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
}

beforeAll(async () => {
  server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      if (request.url?.includes("/files/upload")) onUploadChunk?.(chunk);
    }
    const entry: Recorded = {
      method: request.method ?? "",
      url: request.url ?? "",
      headers: request.headers,
      body: Buffer.concat(chunks),
    };
    recorded.push(entry);
    const key = `${entry.method} ${new URL(entry.url, "http://x").pathname}`;
    const handler = handlers.get(key);
    if (handler) await handler(request, response, entry);
    else json(response, 404, errorBody("not_found", `no route ${key}`));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  server.close();
  await once(server, "close");
});

function client(): Ciab {
  return new Ciab({ url, token: "ciab_test" });
}

describe("Ciab over HTTP", () => {
  it("sends the bearer token, JSON and the wait flag", async () => {
    handlers.set("POST /api/v1/sandboxes", (_request, response) =>
      json(response, 202, { ...sandbox, state: "provisioning" }),
    );
    const handle = await client().sandboxes.create({ runtime: "local", tags: { team: "a" } }, { wait: false });
    const request = recorded.at(-1)!;
    expect(request.url).toBe("/api/v1/sandboxes?wait=false");
    expect(request.headers.authorization).toBe("Bearer ciab_test");
    expect(request.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(request.body.toString())).toEqual({ runtime: "local", tags: { team: "a" } });
    expect(handle.id).toBe("sbx_1");
    expect(handle.info.state).toBe("provisioning");
  });

  it("health needs no token", async () => {
    handlers.set("GET /api/v1/health", (_request, response) => json(response, 200, { status: "ok", version: "0.1.0" }));
    expect(await client().health()).toEqual({ status: "ok", version: "0.1.0" });
    expect(recorded.at(-1)!.headers.authorization).toBeUndefined();
  });

  it("maps error codes to typed errors with status and context", async () => {
    handlers.set("GET /api/v1/sandboxes/sbx_gone", (_request, response) =>
      json(response, 404, errorBody("sandbox_not_found", "no sandbox sbx_gone", { sandbox_id: "sbx_gone" })),
    );
    const error = await client().sandboxes.get("sbx_gone").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({ code: "sandbox_not_found", status: 404, context: { sandbox_id: "sbx_gone" } });

    handlers.set("POST /api/v1/sandboxes", (_request, response) =>
      json(response, 502, errorBody("sandbox_failed", "bwrap died", { sandbox_id: "sbx_2" })),
    );
    await expect(client().sandboxes.create()).rejects.toBeInstanceOf(SandboxFailedError);

    handlers.set("GET /api/v1/sandboxes", (_request, response) =>
      json(response, 401, errorBody("unauthorized", "bad token")),
    );
    await expect(client().sandboxes.list()).rejects.toBeInstanceOf(AuthenticationError);
  });

  it("keeps unknown codes on the base class and survives bodies that are not ours", async () => {
    handlers.set("GET /api/v1/sandboxes/sbx_new", (_request, response) =>
      json(response, 418, errorBody("brand_new", "later")),
    );
    const unknown = await client().sandboxes.get("sbx_new").catch((caught: unknown) => caught);
    expect(unknown).toBeInstanceOf(CiabApiError);
    expect(unknown).not.toBeInstanceOf(NotFoundError);
    expect(unknown).toMatchObject({ code: "brand_new", status: 418, message: "later" });

    handlers.set("GET /api/v1/sandboxes/sbx_proxy", (_request, response) => {
      response.writeHead(502, { "content-type": "text/html" });
      response.end("<h1>Bad Gateway</h1>");
    });
    const proxy = await client().sandboxes.get("sbx_proxy").catch((caught: unknown) => caught);
    expect(proxy).toBeInstanceOf(InternalServerError);
    expect((proxy as Error).message).toContain("status 502");
  });

  it("streams an upload without a content length, and sends the mode", async () => {
    handlers.set("PUT /api/v1/sandboxes/sbx_1/files/upload", (_request, response, entry) =>
      json(response, 200, {
        name: "big.bin",
        path: "/workspace/big.bin",
        type: "file",
        size: entry.body.length,
        mode: 0o600,
        modified_at: "",
      }),
    );
    handlers.set("GET /api/v1/sandboxes/sbx_1", (_request, response) => json(response, 200, sandbox));
    const handle = await client().sandboxes.get("sbx_1");
    // The source only yields its second chunk after the server has seen the first: proof it is not buffered.
    let firstSeen!: () => void;
    const seen = new Promise<void>((resolve) => (firstSeen = resolve));
    onUploadChunk = () => firstSeen();
    const source = Readable.from(
      (async function* () {
        yield Buffer.alloc(64 * 1024, 1);
        await seen;
        yield Buffer.alloc(64 * 1024, 2);
      })(),
    );
    const entry = await handle.files.upload("big.bin", source, { mode: 0o600 });
    onUploadChunk = undefined;
    const request = recorded.at(-1)!;
    expect(request.url).toBe("/api/v1/sandboxes/sbx_1/files/upload?path=big.bin&mode=600");
    expect(request.headers["content-type"]).toBe("application/octet-stream");
    expect(request.headers["content-length"]).toBeUndefined();
    expect(request.headers["transfer-encoding"]).toBe("chunked");
    expect(request.body.length).toBe(128 * 1024);
    expect(entry.size).toBe(128 * 1024);
  });

  it("returns a download as a stream before the server has finished", async () => {
    let finish!: () => void;
    handlers.set("GET /api/v1/sandboxes/sbx_1/files/download", async (_request, response) => {
      response.writeHead(200, { "content-type": "application/octet-stream" });
      response.write("first;");
      await new Promise<void>((resolve) => (finish = resolve));
      response.end("second");
    });
    const handle = await client().sandboxes.get("sbx_1");
    const stream = await handle.files.download("/workspace/a.txt");
    const iterator = stream[Symbol.asyncIterator]();
    const first = (await iterator.next()).value as Buffer;
    expect(first.toString()).toBe("first;");
    finish();
    const rest: Buffer[] = [];
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) rest.push(next.value as Buffer);
    expect(Buffer.concat(rest).toString()).toBe("second");
    expect(recorded.at(-1)!.url).toBe("/api/v1/sandboxes/sbx_1/files/download?path=%2Fworkspace%2Fa.txt");
  });

  it("yields typed exec events and throws a streamed error", async () => {
    handlers.set("POST /api/v1/sandboxes/sbx_1/exec/stream", (_request, response) => {
      response.writeHead(200, { "content-type": "text/event-stream" });
      response.write('event: exec.start\ndata: {"pid":42}\n\n');
      const data = Buffer.from("oops\n").toString("base64");
      response.write(`event: exec.output\ndata: {"stream":"stderr","data":"${data}"}\n\n`);
      response.end('event: exec.exit\ndata: {"exit_code":3,"signal":null,"timed_out":false,"duration_ms":5}\n\n');
    });
    const handle = await client().sandboxes.get("sbx_1");
    const events: ExecEvent[] = [];
    for await (const event of handle.commands.stream(["sh", "-c", "echo oops >&2; exit 3"], { cwd: "/workspace" })) {
      events.push(event);
    }
    expect(events).toEqual([
      { type: "exec.start", pid: 42 },
      { type: "exec.output", stream: "stderr", data: Buffer.from("oops\n") },
      { type: "exec.exit", exit_code: 3, signal: null, timed_out: false, duration_ms: 5 },
    ]);
    expect(JSON.parse(recorded.at(-1)!.body.toString())).toEqual({
      command: ["sh", "-c", "echo oops >&2; exit 3"],
      cwd: "/workspace",
    });

    handlers.set("POST /api/v1/sandboxes/sbx_1/exec/stream", (_request, response) => {
      response.writeHead(200, { "content-type": "text/event-stream" });
      response.end('event: error\ndata: {"code":"agent_unreachable","message":"agent went away"}\n\n');
    });
    const stream = handle.commands.stream("true");
    await expect(stream.next()).rejects.toMatchObject({ code: "agent_unreachable", message: "agent went away" });
  });

  it("reports a server that is not there as a connection error", async () => {
    const closed = createServer();
    closed.listen(0, "127.0.0.1");
    await once(closed, "listening");
    const port = (closed.address() as AddressInfo).port;
    closed.close();
    await once(closed, "close");
    const ciab = new Ciab({ url: `http://127.0.0.1:${port}`, token: "x" });
    const error = await ciab.sandboxes.list().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CiabConnectionError);
    expect(error).toMatchObject({ code: "connection_failed" });
    expect((error as Error).message).toContain("ECONNREFUSED");
  });

  it("passes an AbortSignal through", async () => {
    handlers.set("POST /api/v1/sandboxes/sbx_1/exec", () => undefined);
    const handle = await client().sandboxes.get("sbx_1");
    const controller = new AbortController();
    const run = handle.commands.run("sleep 10", { signal: controller.signal });
    controller.abort();
    await expect(run).rejects.toMatchObject({ name: "AbortError" });
  });
});
