import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestServer, type TestServer } from "../harness/test-server.js";

describe("bad input gets a typed error and the server stays up", () => {
  let server: TestServer;
  let sandboxID: string;

  beforeAll(async () => {
    server = await startTestServer();
    const created = await server.api("POST", "/sandboxes", { runtime: "local" });
    expect(created.status).toBe(201);
    sandboxID = created.body.id;
  });
  afterAll(async () => server?.close());

  test.each([
    ["malformed JSON", "{not json", 400, "invalid_json"],
    ["wrong type", { runtime: 42 }, 400, "invalid_request"],
    ["unknown runtime", { runtime: "mainframe" }, 400, "invalid_request"],
    ["unknown field", { runtime: "local", colour: "blue" }, 400, "invalid_request"],
    ["bad name", { name: "Not A Name!" }, 400, "invalid_request"],
    ["bad env name", { env: { "1BAD": "x" } }, 400, "invalid_request"],
    ["resources out of range", { runtime: "local", resources: { pids: 2 } }, 400, "invalid_request"],
    ["image on local", { runtime: "local", image: "debian:12" }, 422, "capability_unsupported"],
  ])("create with %s", async (_, body, status, code) => {
    const answer = await server.api("POST", "/sandboxes", body);
    expect(answer.status).toBe(status);
    expect(answer.body.error.code).toBe(code);
    expect(answer.body.error.message).toEqual(expect.any(String));
  });

  test("non-JSON content type is refused, not ignored", async () => {
    const answer = await server.api("POST", "/sandboxes", "runtime=local", {
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(answer.status).toBe(415);
    expect(answer.body.error.code).toBe("unsupported_media_type");
  });

  test("oversized body", async () => {
    const small = await startTestServer({ env: { CIAB_SERVER_BODY_LIMIT_BYTES: "2048" } });
    try {
      const answer = await small.api("POST", "/sandboxes", { env: { BIG: "x".repeat(10_000) } });
      expect(answer.status).toBe(413);
      expect(answer.body.error.code).toBe("payload_too_large");
    } finally {
      await small.close();
    }
  });

  test("missing, malformed and unknown tokens", async () => {
    const none = await fetch(`${server.url}/api/v1/sandboxes`);
    expect(none.status).toBe(401);
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
    expect((await server.api("GET", "/sandboxes", undefined, { token: "nope" })).body.error.code).toBe("unauthorized");
    const unknown = await server.api("GET", "/sandboxes", undefined, { token: `ciab_${"a".repeat(40)}` });
    expect(unknown.status).toBe(401);
  });

  test("unknown ids and routes", async () => {
    const missing = await server.api("GET", "/sandboxes/sbx_00000000000000000000000000");
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("sandbox_not_found");
    const exec = await server.api("POST", "/sandboxes/sbx_nope/exec", { command: ["true"] });
    expect(exec.body.error.code).toBe("sandbox_not_found");
    const route = await server.api("GET", "/nowhere");
    expect(route.status).toBe(404);
    expect(route.body.error.code).toBe("not_found");
  });

  test("another workspace's sandbox answers 404", async () => {
    const created = await server.api("POST", "/workspaces", { name: "other team" });
    expect(created.status).toBe(201);
    const other = created.body.token as string;
    for (const [method, route, body] of [
      ["GET", `/sandboxes/${sandboxID}`, undefined],
      ["POST", `/sandboxes/${sandboxID}/exec`, { command: ["true"] }],
      ["GET", `/sandboxes/${sandboxID}/files?path=/workspace`, undefined],
      ["DELETE", `/sandboxes/${sandboxID}`, undefined],
    ] as const) {
      const answer = await server.api(method, route, body, { token: other });
      expect(answer.status, `${method} ${route}`).toBe(404);
      expect(answer.body.error.code).toBe("sandbox_not_found");
    }
    expect((await server.api("GET", "/sandboxes", undefined, { token: other })).body.sandboxes).toEqual([]);
    const hostNetwork = await server.api("POST", "/sandboxes", { runtime: "local", network: "host" }, { token: other });
    expect(hostNetwork.status).toBe(403);
    expect(hostNetwork.body.error.message).toContain("allow_host_network");
    const member = await server.api("POST", "/workspaces", { name: "x" }, { token: other });
    expect(member.status).toBe(403);
    expect(member.body.error.code).toBe("forbidden");
  });

  test("exec of a missing binary", async () => {
    const answer = await server.api("POST", `/sandboxes/${sandboxID}/exec`, { command: ["no-such-binary-here"] });
    expect(answer.status).toBe(422);
    expect(answer.body.error.code).toBe("command_not_found");
  });

  test.each([
    ["dot-dot escape", "/workspace/../etc/passwd", "path_outside_sandbox"],
    ["relative dot-dot", "../../etc/passwd", "path_outside_sandbox"],
    ["absolute outside", "/etc/passwd", "path_outside_sandbox"],
    ["missing file", "/workspace/nope.txt", "file_not_found"],
  ])("read with %s", async (_, path, code) => {
    const answer = await server.api("GET", `/sandboxes/${sandboxID}/files/read?path=${encodeURIComponent(path)}`);
    expect(answer.body.error.code).toBe(code);
  });

  test("symlinks pointing out of the jail", async () => {
    const link = await server.api("POST", `/sandboxes/${sandboxID}/exec`, { command: "ln -s /etc /workspace/etc-link && ln -s /etc/hostname /workspace/host-link" });
    expect(link.body.exit_code).toBe(0);
    for (const path of ["/workspace/etc-link/hostname", "/workspace/host-link"]) {
      const read = await server.api("GET", `/sandboxes/${sandboxID}/files/read?path=${encodeURIComponent(path)}`);
      expect(read.body.error.code, path).toBe("path_outside_sandbox");
    }
    const write = await server.api("POST", `/sandboxes/${sandboxID}/files/write`, { path: "/workspace/etc-link/evil", content: "x" });
    expect(write.body.error.code).toBe("path_outside_sandbox");
    const list = await server.api("GET", `/sandboxes/${sandboxID}/files?path=/workspace/etc-link`);
    expect(list.body.error.code).toBe("path_outside_sandbox");
  });

  test("read of a symlink to a big file is refused by the opened file's size", async () => {
    const made = await server.api("POST", `/sandboxes/${sandboxID}/exec`, {
      command: "head -c 12000000 /dev/zero > /workspace/big.bin && ln -s big.bin /workspace/small-looking",
    });
    expect(made.body.exit_code).toBe(0);
    const read = await server.api("GET", `/sandboxes/${sandboxID}/files/read?path=/workspace/small-looking`);
    expect(read.status).toBe(413);
    expect(read.body.error.code).toBe("payload_too_large");
  });

  test("a WebSocket client breaking the protocol does not take the server down", async () => {
    const started = await server.api("POST", `/sandboxes/${sandboxID}/processes`, { command: ["sleep", "60"] });
    const { WebSocket } = await import("ws");
    const url = `${server.url.replace("http", "ws")}/api/v1/sandboxes/${sandboxID}/processes/${started.body.pid}/attach?token=${server.token}`;
    const socket = new WebSocket(url);
    await new Promise((resolve, reject) => {
      socket.once("open", resolve);
      socket.once("error", reject);
    });
    const closed = new Promise((resolve) => socket.once("close", resolve));
    socket.send(Buffer.alloc(17 * 1024 * 1024), { binary: true }); // over the server's 16 MiB message limit
    await closed;
    expect((await fetch(`${server.url}/api/v1/health`)).status).toBe(200);
  });

  test("the server still answers after all of that", async () => {
    const answer = await server.api("POST", `/sandboxes/${sandboxID}/exec`, { command: ["echo", "alive"] });
    expect(answer.body.stdout).toBe("alive\n");
  });
});
