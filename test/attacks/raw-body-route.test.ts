import { afterAll, beforeAll, expect, test } from "vitest";
import { startTestServer, type TestServer } from "../harness/test-server.js";

let server: TestServer;
let memberToken: string;
const limit = 4096;

beforeAll(async () => {
  server = await startTestServer({
    env: { CIAB_RUNTIME_ENABLED: "local", CIAB_RUNTIME_BACKEND: "local", CIAB_SERVER_BODY_LIMIT_BYTES: String(limit), CIAB_SERVER_STDIN_LIMIT_BYTES: String(limit) },
  });
  const member = await server.api("POST", "/workspaces", { name: "team-raw", role: "member" });
  memberToken = member.body.token;
});

afterAll(async () => {
  await server?.close();
});

test("a JSON route whose path happens to end like a raw-body route still has its body bounded", async () => {
  const value = "x".repeat(limit * 4);
  for (const name of ["stdin", "upload"]) {
    const answer = await server.api("PUT", `/secrets/${name}`, { value }, { token: memberToken });
    expect(answer.status).toBe(413);
    expect(answer.body.error.code).toBe("payload_too_large");
  }
  const listed = await server.api("GET", "/secrets", undefined, { token: memberToken });
  expect(listed.body.secrets).toEqual([]);
});

test("stdin sent over HTTP is held in memory by the server, so its body is bounded too", async () => {
  const response = await fetch(`${server.url}/api/v1/sandboxes/sbx_none/processes/1/stdin`, {
    method: "POST",
    headers: { authorization: `Bearer ${memberToken}`, "content-type": "application/octet-stream" },
    body: Buffer.alloc(limit * 4),
  });
  expect(response.status).toBe(413);
  expect(((await response.json()) as { error: { code: string } }).error.code).toBe("payload_too_large");
});
