import net from "node:net";
import path from "node:path";
import { constants, type ServerHttp2Stream } from "node:http2";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { answerForever, startFakeAgentd, type FakeAgentd } from "./agentd-fake-server.js";
import { startAttackServer, type AttackServer } from "./http-attack-server.js";

/** The most one request may add to the control plane's resident memory, whatever agentd answers. */
const rssBudget = 200 * 1024 * 1024;
const mebibyte = Buffer.alloc(1024 * 1024, "x");

const json = (stream: ServerHttp2Stream, body: unknown, headers: Record<string, string> = {}) => {
  stream.respond({ ":status": 200, "content-type": "application/json", ...headers });
  stream.end(typeof body === "string" ? body : JSON.stringify(body));
};
const fileEntry = { name: "a", path: "/workspace/a", type: "file", size: 1, mode: 0o644, modifiedAt: "2026-01-01T00:00:00.000Z" };

/**
 * A sandbox whose agentd socket is taken over by a hostile program (the sandbox can write that dir): every
 * answer is read within a bound, a broken one fails only its own request, and the control plane keeps serving.
 */
describe("a hostile agentd", () => {
  let server: AttackServer;
  let fake: FakeAgentd;
  let sandbox: string;

  beforeAll(async () => {
    server = await startAttackServer();
    const created = await server.api("POST", "/sandboxes", { runtime: "local" });
    expect(created.status).toBe(201);
    sandbox = created.body.id;
    fake = await startFakeAgentd(path.join(server.dataDirectory, "sandboxes", sandbox, "run", "agentd.sock"), sandbox);
    // A new control plane process opens its connections through whatever now listens on the socket.
    await server.restart();
  });
  afterAll(async () => {
    await fake?.close();
    await server?.close();
  });

  /** Runs one call while sampling the server's RSS; checks the bound and that the server still answers. */
  async function bounded<T>(call: () => Promise<T>): Promise<T> {
    const before = server.rssBytes();
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, server.rssBytes())), 20);
    try {
      return await call();
    } finally {
      clearInterval(sampler);
      peak = Math.max(peak, server.rssBytes());
      console.log(`${expect.getState().currentTestName}: RSS grew ${Math.round((peak - before) / 1048576)} MiB`);
      expect(peak - before).toBeLessThan(rssBudget);
      const health = await fetch(`${server.url}/api/v1/health`, { signal: AbortSignal.timeout(2000) });
      expect(health.status).toBe(200);
    }
  }

  const expectError = (answer: { status: number; body: any }, status: number, code: string) => {
    expect(answer.status, JSON.stringify(answer.body).slice(0, 300)).toBe(status);
    expect(answer.body.error.code).toBe(code);
  };

  test("an exec answer that never ends is cut at its limit", async () => {
    fake.handle("/v1/exec", (stream) => answerForever(stream, '{"stdout":"', mebibyte));
    const answer = await bounded(() => server.api("POST", `/sandboxes/${sandbox}/exec`, { command: ["true"] }));
    expectError(answer, 413, "payload_too_large");
  });

  test("a directory list that never ends is cut at its limit", async () => {
    fake.handle("/v1/files/list", (stream) => answerForever(stream, '{"entries":[', Buffer.from(JSON.stringify(fileEntry) + ",".repeat(1))));
    expectError(await bounded(() => server.api("GET", `/sandboxes/${sandbox}/files`)), 413, "payload_too_large");
  });

  test("a stdin answer that never ends is cut at its limit", async () => {
    fake.handle("/v1/processes/7/stdin", (stream) => answerForever(stream, '{"written":', mebibyte));
    const answer = await bounded(() =>
      fetch(`${server.url}/api/v1/sandboxes/${sandbox}/processes/7/stdin`, {
        method: "POST",
        headers: { authorization: `Bearer ${server.token}` },
        body: "hello",
      }).then(async (response) => ({ status: response.status, body: await response.json() })),
    );
    expectError(answer, 413, "payload_too_large");
  });

  test("a garbage answer fails its request, and the next one succeeds on the same channel", async () => {
    let calls = 0;
    fake.handle("/v1/files/stat", (stream) => (calls++ === 0 ? json(stream, "{not json at all") : json(stream, fileEntry)));
    expectError(await bounded(() => server.api("GET", `/sandboxes/${sandbox}/files/stat?path=/workspace/a`)), 502, "agent_unreachable");
    const retried = await server.api("GET", `/sandboxes/${sandbox}/files/stat?path=/workspace/a`);
    expect(retried.status).toBe(200);
    expect(retried.body.path).toBe("/workspace/a");
  });

  test("garbage frames, a frame cut mid-line, an endless line", async () => {
    fake.handle("/v1/exec/stream", (stream) => {
      stream.respond({ ":status": 200, "content-type": "application/x-ndjson" });
      stream.end("%%% not a frame\n");
    });
    expectError(await bounded(() => server.api("POST", `/sandboxes/${sandbox}/exec/stream`, { command: ["true"] })), 502, "agent_unreachable");

    fake.handle("/v1/exec/stream", (stream) => {
      stream.respond({ ":status": 200, "content-type": "application/x-ndjson" });
      stream.write('{"type":"start","pid":1}\n{"type":"stdout","data":"aGVs');
      setTimeout(() => stream.close(constants.NGHTTP2_INTERNAL_ERROR), 50);
    });
    const cut = await bounded(() => server.api("POST", `/sandboxes/${sandbox}/exec/stream`, { command: ["true"] }));
    expect(cut.status).toBe(200);
    expect(cut.body).toContain("event: exec.start");
    expect(cut.body).toMatch(/event: error\ndata: \{"code":"agent_unreachable"/);

    fake.handle("/v1/exec/stream", (stream) => answerForever(stream, '{"type":"stdout","data":"', mebibyte));
    expectError(await bounded(() => server.api("POST", `/sandboxes/${sandbox}/exec/stream`, { command: ["true"] })), 502, "agent_unreachable");

    fake.handle("/v1/exec/stream", (stream) => {
      stream.respond({ ":status": 200, "content-type": "application/x-ndjson" });
      stream.end('{"type":"exit","exitCode":"zero"}\n');
    });
    expectError(await bounded(() => server.api("POST", `/sandboxes/${sandbox}/exec/stream`, { command: ["true"] })), 502, "agent_unreachable");
  });

  test("a file that sends more than it announced is cut at its length", async () => {
    fake.handle("/v1/files/content", (stream) => answerForever(stream, "", mebibyte));
    // agentd always announces a file's length: an answer without one is refused before any byte is read.
    expectError(await bounded(() => server.api("GET", `/sandboxes/${sandbox}/files/read?path=/workspace/a`)), 502, "agent_unreachable");
    fake.handle("/v1/files/content", (stream) => {
      stream.respond({ ":status": 200, "content-length": String(1024 * 1024 * 1024) } as never);
      answerForever(stream, "", mebibyte);
    });
    expectError(await bounded(() => server.api("GET", `/sandboxes/${sandbox}/files/read?path=/workspace/a`)), 413, "payload_too_large");

    fake.handle("/v1/files/content", (stream) => {
      stream.respond({ ":status": 200, "content-length": "5" } as never);
      stream.end(Buffer.alloc(64 * 1024, "y"));
    });
    const answer = await bounded(() => server.api("GET", `/sandboxes/${sandbox}/files/read?path=/workspace/a`));
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer.body.error.code).toEqual(expect.any(String));

    fake.handle("/v1/files/content", (stream) => json(stream, "abc", { "content-length": "not a number", "x-ciab-mode": "zz" }));
    const invalid = await bounded(() => server.api("GET", `/sandboxes/${sandbox}/files/read?path=/workspace/a`));
    expect(invalid.status).toBeGreaterThanOrEqual(400);
    expect(invalid.body.error.code).toEqual(expect.any(String));
  });

  test("the largest exec answer allowed passes within the budget", async () => {
    const output = "z".repeat(16 * 1024 * 1024);
    fake.handle("/v1/exec", (stream) =>
      json(stream, { exitCode: 0, signal: null, stdout: output, stderr: output, timedOut: false, durationMs: 1, truncated: true }),
    );
    const answer = await bounded(() => server.api("POST", `/sandboxes/${sandbox}/exec`, { command: ["true"] }));
    expect(answer.status).toBe(200);
    expect(answer.body.stdout.length).toBe(output.length);
  });

  test("endless output to a client that does not read stays within the budget", async () => {
    const frame = Buffer.from(JSON.stringify({ type: "stdout", data: Buffer.alloc(48 * 1024, "q").toString("base64"), encoding: "base64" }) + "\n");
    fake.handle("/v1/exec/stream", (stream) => {
      stream.respond({ ":status": 200, "content-type": "application/x-ndjson" });
      stream.write('{"type":"start","pid":1}\n');
      answerForever(stream, "", frame);
    });
    await bounded(async () => {
      const url = new URL(`${server.url}/api/v1/sandboxes/${sandbox}/exec/stream`);
      const socket = net.connect({ host: url.hostname, port: Number(url.port) });
      await new Promise((resolve) => socket.once("connect", resolve));
      const body = JSON.stringify({ command: ["yes"] });
      socket.write(
        `POST ${url.pathname} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${server.token}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      );
      socket.pause();
      // The client reads nothing for two seconds while agentd would send without end.
      await new Promise((resolve) => setTimeout(resolve, 2000));
      socket.destroy();
    });
  });

  /** An upload of `body` with its content-length, so that it goes to agentd as a raw write. */
  const upload = (body: Buffer) =>
    fetch(`${server.url}/api/v1/sandboxes/${sandbox}/files/upload?path=/workspace/a`, {
      method: "PUT",
      headers: { authorization: `Bearer ${server.token}`, "content-type": "application/octet-stream" },
      body,
      signal: AbortSignal.timeout(30_000),
    }).then(async (response) => ({ status: response.status, body: (await response.json()) as any }));

  /** A raw write agentd greets for this sandbox, then reads `take` bytes of the body and answers `line`. */
  const rawWriteAnswering = (take: number, line: (received: number) => string) => (socket: net.Socket) => {
    let received = 0;
    let answered = false;
    socket.write(`READY ${sandbox}\n`);
    const answer = () => {
      if (answered) return;
      answered = true;
      socket.write(`${line(received)}\n`);
    };
    if (take === 0) answer();
    socket.on("data", (chunk: Buffer) => {
      received += chunk.length;
      if (received >= take) answer();
    });
    socket.resume();
  };

  test("a raw write agentd claims done before it had the body is not a written file", async () => {
    const body = Buffer.alloc(8 * 1024 * 1024, "u");
    try {
      // Success at once, for one byte, while the upload has barely started.
      fake.handleRaw("CIAB-WRITE ", rawWriteAnswering(0, () => `OK ${JSON.stringify(fileEntry)}`));
      expectError(await bounded(() => upload(body)), 502, "agent_unreachable");
      // The whole body taken, but the entry names another size than the upload's.
      fake.handleRaw("CIAB-WRITE ", rawWriteAnswering(body.length, () => `OK ${JSON.stringify(fileEntry)}`));
      expectError(await bounded(() => upload(body)), 502, "agent_unreachable");
      // Entries that are no entry at all.
      for (const entry of ["null", "7", '"a"', '{"size":"8388608"}', JSON.stringify({ ...fileEntry, size: body.length, type: "directory" })]) {
        fake.handleRaw("CIAB-WRITE ", rawWriteAnswering(body.length, () => `OK ${entry}`));
        expectError(await bounded(() => upload(body)), 502, "agent_unreachable");
      }
      // The same on the channel's PUT, which a raw write falls back to.
      fake.handleRaw("CIAB-WRITE ", undefined);
      fake.handle("/v1/files/content", (stream) => stream.once("end", () => json(stream, "null")));
      expectError(await bounded(() => upload(body)), 502, "agent_unreachable");
      // An honest answer is taken.
      fake.handleRaw("CIAB-WRITE ", rawWriteAnswering(body.length, (received) => `OK ${JSON.stringify({ ...fileEntry, size: received })}`));
      const written = await upload(body);
      expect(written.status, JSON.stringify(written.body)).toBe(200);
      expect(written.body.size).toBe(body.length);
    } finally {
      fake.handleRaw("CIAB-WRITE ", undefined);
    }
  });

  test("an answer that never comes does not hold the server", async () => {
    fake.handle("/v1/ports", () => undefined);
    const pending = server.api("GET", `/sandboxes/${sandbox}/ports`).catch(() => undefined);
    const health = await fetch(`${server.url}/api/v1/health`, { signal: AbortSignal.timeout(2000) });
    expect(health.status).toBe(200);
    fake.handle("/v1/processes", (stream) => json(stream, { processes: [] }));
    expect((await server.api("GET", `/sandboxes/${sandbox}/processes`)).body).toEqual({ processes: [] });
    void pending;
  });
});
