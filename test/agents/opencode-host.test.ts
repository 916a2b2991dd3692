import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { createOpencodeProvider } from "../../packages/server/src/providers/opencode/index.js";
import { ensureToolInstalled } from "../../packages/server/src/providers/tool-installer.js";
import { startModelServer, type ModelServer } from "../harness/model-server/model-server.js";
import { defaultToolsDirectory, runHeadlessOnHost, type HeadlessRun } from "./run-headless-on-host.js";

const provider = createOpencodeProvider();
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("opencode on the host", () => {
  beforeAll(async () => {
    await ensureToolInstalled(provider.install, defaultToolsDirectory);
  }, 300_000);

  it("writes hello.txt through the model server's Chat Completions API and reports a tool call and a result", async () => {
    const server: ModelServer = await startModelServer();
    cleanups.push(server.close);
    const run: HeadlessRun = await runHeadlessOnHost(provider, { prompt: "Create hello.txt", modelServerURL: server.url });
    cleanups.push(run.remove);

    expect(run.exitCode, run.stderr).toBe(0);
    expect(await readFile(path.join(run.context.workDirectory, "hello.txt"), "utf8")).toBe("hello from opencode");
    const types = run.events.map((event) => event.type);
    expect(types).toContain("tool.call");
    expect(types).not.toContain("session.error");
    expect(run.events.find((event) => event.type === "agent.result")?.data).toMatchObject({ is_error: false });

    const calls = server.requests.filter((request) => request.method === "POST" && request.route === "/v1/chat/completions");
    expect(calls.length).toBeGreaterThanOrEqual(2);
    for (const request of calls) {
      expect(request.path).toMatch(/^\/openai\/v1\/chat\/completions/);
      expect(request.headers.authorization).toBe(`Bearer ${run.context.gatewayToken}`);
    }
  });
});
