import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { SessionEvent } from "@ciab/protocol";
import { Ciab } from "../../packages/sdk/src/index.js";
import { startTestServer, type TestServer } from "../harness/test-server.js";
import { makeGitRepo } from "./git-fixture.js";

const decode = (events: SessionEvent[], stream: string) =>
  events
    .filter((event) => event.type === "shell.output" && event.data.stream === stream)
    .map((event) => Buffer.from(String(event.data.data), "base64").toString())
    .join("");

describe.each(["local", "docker"] as const)("sessions with no agent (shell) on %s", (runtime) => {
  let server: TestServer;
  let ciab: Ciab;
  const repo = makeGitRepo();
  beforeAll(async () => {
    // The test repositories are paths on this host.
    server = await startTestServer({ env: { CIAB_POLICY_ALLOW_LOCAL_REPOS: "true", CIAB_POLICY_OUTBOUND_ALLOW: "127.0.0.1" } });
    ciab = new Ciab({ url: server.url, token: server.token });
  });
  afterAll(async () => {
    await server?.close();
    repo.remove();
  });

  async function runToEnd(request: Parameters<Ciab["sessions"]["create"]>[0]) {
    const session = await ciab.sessions.create({ runtime, ...request });
    const events: SessionEvent[] = [];
    for await (const event of ciab.sessions.follow(session.id)) events.push(event);
    return { session: await ciab.sessions.get(session.id), events };
  }

  test("a headless script: output as events, its exit code, its sandbox destroyed", async () => {
    const { session, events } = await runToEnd({ provider: "shell", prompt: "echo hello; echo oops >&2; exit 3" });
    expect(session).toMatchObject({ state: "failed", exit_code: 3, mode: "headless", owns_sandbox: true });
    expect(decode(events, "stdout")).toBe("hello\n");
    expect(decode(events, "stderr")).toContain("oops");
    expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index + 1));
    const states = events.filter((event) => event.type === "session.state.changed").map((event) => event.data.state);
    expect(states[0]).toBe("starting");
    expect(states).toContain("running");
    expect(states.at(-1)).toBe("failed");
    // The final event comes first; the session's own sandbox is destroyed right after.
    let sandbox = await ciab.sandboxes.get(session.sandbox_id!);
    for (let attempt = 0; attempt < 100 && sandbox.info.state !== "terminated"; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      sandbox = await ciab.sandboxes.get(session.sandbox_id!);
    }
    expect(sandbox.info.state).toBe("terminated");
  });

  test("the repo is checked out at the ref, in /workspace, with no network", async () => {
    const { session, events } = await runToEnd({
      provider: "shell",
      prompt: "git rev-parse --abbrev-ref HEAD; git rev-parse HEAD; cat README.md; git status --porcelain | wc -l",
      repo: { url: repo.url, ref: "feature" },
    });
    expect(session.state).toBe("completed");
    expect(decode(events, "stdout")).toBe(`feature\n${repo.featureCommit}\non feature\n0\n`);
    const main = await runToEnd({ provider: "shell", prompt: "cat README.md", repo: { url: repo.url } });
    expect(decode(main.events, "stdout")).toBe("on main\n");
  });

  test("credentials in a repo URL never show in the session, its events or its failure", async () => {
    const url = "http://alice:ghp_SECRET123@127.0.0.1:9/private.git"; // a closed loopback port: fails at once
    const { session, events } = await runToEnd({ provider: "shell", prompt: "true", repo: { url } });
    expect(session.state).toBe("failed");
    expect(session.repo?.url).toBe("http://127.0.0.1:9/private.git");
    expect(JSON.stringify(session) + JSON.stringify(events)).not.toContain("ghp_SECRET123");
  });

  test("a ref that does not exist fails the session with a clear reason", async () => {
    const { session } = await runToEnd({ provider: "shell", prompt: "true", repo: { url: repo.url, ref: "no-such-branch" } });
    expect(session.state).toBe("failed");
    expect(session.failure?.message).toContain("no-such-branch");
  });

  test("events page as JSON and resume over SSE with no gap or duplicate", async () => {
    const { session, events } = await runToEnd({ provider: "shell", prompt: "for i in $(seq 1 40); do echo line $i; done" });
    const page = await ciab.sessions.events(session.id, { after: 5, limit: 10 });
    expect(page.map((event) => event.seq)).toEqual([6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    const resumed: SessionEvent[] = [];
    for await (const event of ciab.sessions.follow(session.id, { after: 10 })) resumed.push(event);
    expect(resumed.map((event) => event.seq)).toEqual(events.slice(10).map((event) => event.seq));
    const raw = await fetch(`${server.url}/api/v1/sessions/${session.id}/events`, {
      headers: { authorization: `Bearer ${server.token}`, accept: "text/event-stream", "last-event-id": String(events.length - 2) },
    });
    const text = await raw.text();
    expect(text.match(/^id: /gm)).toHaveLength(2);
  });

  test("cancel stops a running agent", async () => {
    const session = await ciab.sessions.create({ runtime, provider: "shell", prompt: "echo started; sleep 600" });
    for await (const event of ciab.sessions.follow(session.id)) {
      if (event.type === "shell.output") break;
    }
    await ciab.sessions.cancel(session.id);
    for await (const _ of ciab.sessions.follow(session.id)) {
      // drain to the final event
    }
    expect((await ciab.sessions.get(session.id)).state).toBe("cancelled");
  });
});

describe("bad session requests", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { CIAB_RUNTIME_ENABLED: "local" } });
  });
  afterAll(async () => server?.close());

  test.each([
    ["unknown provider", { provider: "clippy", prompt: "x" }, "invalid_request"],
    ["sandbox and runtime both", { provider: "shell", prompt: "x", sandbox_id: "sbx_x", runtime: "local" }, "invalid_request"],
    ["unknown field", { provider: "shell", prompt: "x", colour: 1 }, "invalid_request"],
    ["missing sandbox", { provider: "shell", prompt: "x", sandbox_id: "sbx_00000000000000000000000000" }, "sandbox_not_found"],
  ])("%s", async (_, body, code) => {
    const answer = await server.api("POST", "/sessions", body);
    expect(answer.body.error.code).toBe(code);
  });

  test("repository paths on the server's host are refused unless the policy allows them", async () => {
    for (const url of ["/srv/other-team/repo", "file:///srv/other-team/repo", "../repo"]) {
      const answer = await server.api("POST", "/sessions", { provider: "shell", prompt: "x", repo: { url } });
      expect(answer.status, url).toBe(400);
      expect(answer.body.error.message).toContain("allow_local_repos");
    }
  });

  test("another workspace's session is not found", async () => {
    const created = await server.api("POST", "/sessions", { provider: "shell", prompt: "true" });
    const other = await server.api("POST", "/workspaces", { name: "b" });
    const answer = await server.api("GET", `/sessions/${created.body.id}/events`, undefined, { token: other.body.token });
    expect(answer.status).toBe(404);
  });
});
