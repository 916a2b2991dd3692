import path from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import type { SessionEvent } from "@ciab/protocol";
import { Ciab } from "../../packages/sdk/src/index.js";
import { startTestServer, type TestServer } from "../harness/test-server.js";

// `[policy] allow_local_repos` opens the host's repositories to sessions, but the server's data directory holds
// every local sandbox's work dir, another workspace's included, and the server's own keys. git's own
// safe.directory check stops the clone below only while the jail's uid differs from the server's.

let server: TestServer;
let alice = "";
let mallory = "";

beforeAll(async () => {
  server = await startTestServer({ env: { CIAB_RUNTIME_ENABLED: "local", CIAB_POLICY_ALLOW_LOCAL_REPOS: "true" } });
  alice = (await server.api("POST", "/workspaces", { name: "team-alice", role: "member" })).body.token;
  mallory = (await server.api("POST", "/workspaces", { name: "team-mallory", role: "member" })).body.token;
});

afterAll(async () => {
  await server?.close();
});

test("a session cannot clone another workspace's sandbox work dir out of the server's data directory", async () => {
  const sandbox = await server.api("POST", "/sandboxes", { runtime: "local" }, { token: alice });
  expect(sandbox.status).toBe(201);
  const commit = "git init -q -b main && echo alice-private-4242 > secret.txt && git add . && git -c user.name=a -c user.email=a@a commit -qm s";
  const made = await server.api("POST", `/sandboxes/${sandbox.body.id}/exec`, { command: ["/bin/sh", "-c", commit] }, { token: alice });
  expect(made.body.exit_code, JSON.stringify(made.body)).toBe(0);

  const hostPath = path.join(server.dataDirectory, "sandboxes", sandbox.body.id, "workspace");
  const answer = await server.api("POST", "/sessions", { runtime: "local", provider: "shell", prompt: "cat secret.txt", repo: { url: hostPath } }, { token: mallory });
  if (answer.status === 201) {
    const events: SessionEvent[] = [];
    for await (const event of new Ciab({ url: server.url, token: mallory }).sessions.follow(answer.body.id)) events.push(event);
    expect(JSON.stringify(events)).not.toContain("alice-private-4242");
  }
  expect(answer.status).toBe(400);
  expect(answer.body.error.code).toBe("invalid_request");
  for (const url of [`file://${server.dataDirectory}/../${path.basename(server.dataDirectory)}/sandboxes`, `../../../../../../../..${server.dataDirectory}`]) {
    const other = await server.api("POST", "/sessions", { runtime: "local", provider: "shell", prompt: "true", repo: { url } }, { token: mallory });
    expect(other.status, url).toBe(400);
  }
});
