import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { rawRequest, startAttackServer, type AttackServer } from "./http-attack-server.js";

/** Inputs the kernel or the URL parser would choke on: each is a typed 4xx with the usual body, never a 500. */
describe("robust edges", () => {
  let server: AttackServer;
  let sandbox: string;

  beforeAll(async () => {
    server = await startAttackServer();
    const created = await server.api("POST", "/sandboxes", { runtime: "local" });
    expect(created.status).toBe(201);
    sandbox = created.body.id;
  });
  afterAll(async () => server?.close());

  const expectTyped = (answer: { status: number; body: any }, status: number, code: string) => {
    expect(answer.status, JSON.stringify(answer.body)).toBe(status);
    expect(answer.body.error.code).toBe(code);
    expect(answer.body.error.message).toEqual(expect.any(String));
  };

  test.each([
    ["argv", "exec", { command: ["echo", "a\u0000b"] }],
    ["a shell command", "exec", { command: "echo a\u0000b" }],
    ["env", "exec", { command: ["true"], env: { A: "x\u0000y" } }],
    ["cwd", "exec", { command: ["true"], cwd: "/workspace/\u0000" }],
    ["a path to write", "files/write", { path: "/workspace/a\u0000b", content: "x" }],
    ["a path to rename", "files/rename", { from: "/workspace/a", to: "/workspace/\u0000" }],
    ["a background command", "processes", { command: ["sleep\u0000", "1"] }],
  ])("a NUL byte in %s", async (_, route, body) => {
    expectTyped(await server.api("POST", `/sandboxes/${sandbox}/${route}`, body), 400, "invalid_request");
  });

  test("a NUL byte in a path query", async () => {
    expectTyped(await server.api("GET", `/sandboxes/${sandbox}/files/stat?path=/workspace/a%00b`), 400, "invalid_request");
    expectTyped(await server.api("GET", `/sandboxes/${sandbox}/files?path=%00`), 400, "invalid_request");
  });

  test.each([
    ["in a path parameter", "/api/v1/sandboxes/%E0%A4%A"],
    ["in a query value", "/api/v1/sandboxes/SBX/files?path=%ZZ"],
    ["in a query name", "/api/v1/sandboxes/SBX/files?%E0=1"],
    ["as a lone percent", "/api/v1/sandboxes/SBX/files/read?path=/workspace/%"],
    ["in an unknown route", "/api/v1/%C0%AF%FF"],
  ])("a malformed percent-encoding %s", async (_, path) => {
    const answer = await rawRequest(server.url, { path: path.replace("SBX", sandbox), headers: { authorization: `Bearer ${server.token}` } });
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer.status).toBeLessThan(500);
    expect(answer.body.error.code).toEqual(expect.any(String));
  });

  test("huge headers", async () => {
    const answer = await rawRequest(server.url, { path: "/api/v1/health", headers: { "x-filler": "a".repeat(64 * 1024) } });
    expectTyped(answer, 431, "header_too_large");
    const many: Record<string, string> = {};
    for (let index = 0; index < 2000; index++) many[`x-h${index}`] = "v".repeat(10);
    expectTyped(await rawRequest(server.url, { path: "/api/v1/health", headers: many }), 431, "header_too_large");
    expect((await server.api("GET", "/health")).status).toBe(200);
  });

  test("a request that is not HTTP gets a JSON 400", async () => {
    const answer = await rawRequest(server.url, { path: "/api/v1/health", headers: { "content-length": "abc" } });
    expectTyped(answer, 400, "invalid_request");
  });

  test("octal modes given as strings", async () => {
    const written = await server.api("POST", `/sandboxes/${sandbox}/files/write`, { path: "/workspace/m.txt", content: "x", mode: "640" });
    expect(written.status, JSON.stringify(written.body)).toBe(200);
    expect(written.body.mode & 0o7777).toBe(0o640);
    const made = await server.api("POST", `/sandboxes/${sandbox}/files/mkdir`, { path: "/workspace/d", mode: "0o750" });
    expect(made.status).toBe(200);
    expect(made.body.mode & 0o7777).toBe(0o750);
    const uploaded = await fetch(`${server.url}/api/v1/sandboxes/${sandbox}/files/upload?path=/workspace/u.txt&mode=600`, {
      method: "PUT",
      headers: { authorization: `Bearer ${server.token}` },
      body: "abc",
    });
    expect(((await uploaded.json()) as { mode: number }).mode & 0o7777).toBe(0o600);
    const numeric = await server.api("POST", `/sandboxes/${sandbox}/files/write`, { path: "/workspace/n.txt", content: "x", mode: 0o604 });
    expect(numeric.body.mode & 0o7777).toBe(0o604);
    for (const mode of ["999", "rwxr-xr-x", "77777", "-1", ""]) {
      expectTyped(await server.api("POST", `/sandboxes/${sandbox}/files/write`, { path: "/workspace/m.txt", content: "x", mode }), 400, "invalid_request");
    }
  });

  test("the server is still up", async () => {
    const answer = await server.api("POST", `/sandboxes/${sandbox}/exec`, { command: ["echo", "alive"] });
    expect(answer.body.stdout).toBe("alive\n");
  });
});
