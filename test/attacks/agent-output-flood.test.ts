import { afterAll, beforeAll, expect, test } from "vitest";
import type { SessionEvent } from "@ciab/protocol";
import { Ciab } from "../../packages/sdk/src/index.js";
import { startTestServer, type TestServer } from "../harness/test-server.js";

let server: TestServer;
let ciab: Ciab;

beforeAll(async () => {
  server = await startTestServer({ env: { CIAB_RUNTIME_ENABLED: "local" } });
  const member = await server.api("POST", "/workspaces", { name: "team-flood", role: "member" });
  ciab = new Ciab({ url: server.url, token: member.body.token });
});

afterAll(async () => {
  await server?.close();
});

test("an agent printing long lines faster than they are stored still ends as it exited, with every line kept", { timeout: 60_000 }, async () => {
  const lines = 1500;
  const created = await ciab.sessions.create({
    runtime: "local",
    provider: "shell",
    prompt: `for i in $(seq 1 ${lines}); do head -c 50000 /dev/zero | tr '\\0' a; echo; done`,
  });
  let stdoutBytes = 0;
  for await (const event of ciab.sessions.follow(created.id) as AsyncIterable<SessionEvent>) {
    if (event.type === "shell.output" && event.data.stream === "stdout") stdoutBytes += Buffer.from(String(event.data.data), "base64").length;
  }
  const session = await ciab.sessions.get(created.id);
  expect(session.failure).toBeNull();
  expect(session.state).toBe("completed");
  expect(stdoutBytes).toBe(lines * 50_001);
});
