import { afterAll, beforeAll, expect, test } from "vitest";
import type { SessionEvent } from "@ciab/protocol";
import { Ciab } from "../../packages/sdk/src/index.js";
import { startTestServer, type TestServer } from "../harness/test-server.js";

let server: TestServer;
let ciab: Ciab;

beforeAll(async () => {
  server = await startTestServer({ env: { CIAB_RUNTIME_ENABLED: "local", CIAB_POLICY_MAX_SESSION_OUTPUT_MB: "1" } });
  const member = await server.api("POST", "/workspaces", { name: "team-output", role: "member" });
  ciab = new Ciab({ url: server.url, token: member.body.token });
});

afterAll(async () => {
  await server?.close();
});

async function runToEnd(prompt: string) {
  const created = await ciab.sessions.create({ runtime: "local", provider: "shell", prompt });
  const events: SessionEvent[] = [];
  for await (const event of ciab.sessions.follow(created.id)) events.push(event);
  return { session: await ciab.sessions.get(created.id), bytes: JSON.stringify(events).length };
}

test("an agent printing without end is stopped at [policy] max_session_output_mb, not stored until the disk is full", async () => {
  for (const stream of ["", ">&2"]) {
    const { session, bytes } = await runToEnd(`head -c 4000000 /dev/zero | tr '\\0' a ${stream}; echo; sleep 5`);
    expect(session.state).toBe("failed");
    expect(session.failure?.message).toContain("max_session_output_mb");
    expect(bytes).toBeLessThan(4 * 1024 * 1024);
  }
  const small = await runToEnd("echo fine");
  expect(small.session.state).toBe("completed");
});
