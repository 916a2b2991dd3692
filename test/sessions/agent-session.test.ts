import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { SessionEvent } from "@ciab/protocol";
import { Ciab } from "../../packages/sdk/src/index.js";
import { startTestServer, type TestServer } from "../harness/test-server.js";
import { startModelServer } from "../harness/model-server/model-server.js";
import { makeGitRepo } from "./git-fixture.js";

/**
 * The product's main job, end to end: a real agent CLI from npm, in a sandbox, on a cloned repo, talking
 * to a scripted model through ciab's gateway (which swaps the session token for the workspace's key).
 */
describe.each(["claude-code", "pi", "codex", "gemini-cli", "opencode"] as const)("%s runs headless through the gateway", (provider) => {
  let model: Awaited<ReturnType<typeof startModelServer>>;
  let server: TestServer;
  let ciab: Ciab;
  const repo = makeGitRepo();
  beforeAll(async () => {
    model = await startModelServer();
    server = await startTestServer({
      env: {
        CIAB_POLICY_ALLOW_LOCAL_REPOS: "true",
        CIAB_GATEWAY_ANTHROPIC_BASE_URL: model.url,
        CIAB_GATEWAY_OPENAI_BASE_URL: model.url,
        CIAB_GATEWAY_GOOGLE_BASE_URL: model.url,
      },
    });
    ciab = new Ciab({ url: server.url, token: server.token });
    for (const name of ["ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY"]) await ciab.secrets.set(name, `real-key-${name}`);
  });
  afterAll(async () => {
    await server?.close();
    await model?.close();
    repo.remove();
  });

  test.each(["local", "docker"] as const)("on %s", async (runtime) => {
    const session = await ciab.sessions.create({
      provider,
      runtime,
      prompt: "Create hello.txt in the repository.",
      repo: { url: repo.url },
      keep_sandbox: true,
    });
    const events: SessionEvent[] = [];
    for await (const event of ciab.sessions.follow(session.id)) events.push(event);
    const done = await ciab.sessions.get(session.id);
    const failure = events.filter((event) => event.type === "session.error" || event.type === "shell.output");
    expect(done.state, JSON.stringify(failure).slice(0, 2000)).toBe("completed");
    expect(done.exit_code).toBe(0);

    const types = new Set(events.map((event) => event.type));
    expect(types).toContain("tool.call");
    expect(types).toContain("agent.result");
    const gatewayUsage = events.filter((event) => event.type === "usage.reported" && event.data.source === "gateway");
    expect(gatewayUsage.length).toBeGreaterThanOrEqual(2);
    expect(done.usage.output_tokens).toBeGreaterThan(0);
    expect(events.some((event) => event.raw !== undefined)).toBe(true);

    const sandbox = await ciab.sandboxes.get(done.sandbox_id!);
    expect(await sandbox.files.read("/workspace/hello.txt")).toContain("hello");
    expect((await sandbox.files.read("/workspace/README.md"))).toBe("on main\n");

    // The model saw the workspace's key, never the session token, and no secret reached the events.
    const keys = model.requests.map((request) => String(request.headers["x-api-key"] ?? request.headers["x-goog-api-key"] ?? request.headers.authorization ?? ""));
    expect(keys.every((key) => key.includes("real-key-"))).toBe(true);
    expect(JSON.stringify(events)).not.toContain("real-key-");
    await sandbox.delete();
  }, 180_000);
});
