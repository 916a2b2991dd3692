import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { createPiProvider } from "../../packages/server/src/providers/pi/index.js";
import { ensureToolInstalled } from "../../packages/server/src/providers/tool-installer.js";
import { startModelServer, type ModelServer } from "../harness/model-server/model-server.js";
import { defaultToolsDirectory, runHeadlessOnHost, type HeadlessRun } from "./run-headless-on-host.js";

const provider = createPiProvider();
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("pi on the host", () => {
  beforeAll(async () => {
    await ensureToolInstalled(provider.install!, defaultToolsDirectory);
  }, 300_000);

  it("writes hello.txt through the model server and reports a tool call and a result", async () => {
    const server: ModelServer = await startModelServer();
    cleanups.push(server.close);
    const run: HeadlessRun = await runHeadlessOnHost(provider, { prompt: "Create hello.txt", modelServerURL: server.url, model: "claude-sonnet-4-5" });
    cleanups.push(run.remove);

    expect(run.exitCode, run.stderr).toBe(0);
    expect(await readFile(path.join(run.context.workDirectory, "hello.txt"), "utf8")).toBe("hello from pi");
    const types = run.events.map((event) => event.type);
    expect(types).toContain("tool.call");
    expect(types).toContain("file.changed");
    expect(run.events.find((event) => event.type === "agent.result")?.data).toMatchObject({ text: "done: hello.txt written", is_error: false });
    expect(run.events.find((event) => event.type === "usage.reported")?.data).toMatchObject({ input_tokens: 240, output_tokens: 60, source: "agent" });

    const messageCalls = server.requests.filter((request) => request.method === "POST" && request.route === "/v1/messages");
    expect(messageCalls).toHaveLength(2);
    for (const request of messageCalls) {
      expect(request.path).toMatch(/^\/anthropic\/v1\/messages/);
      expect(request.headers["x-api-key"]).toBe(run.context.gatewayToken);
      expect(request.body).toMatchObject({ model: "claude-sonnet-4-5", stream: true });
    }
  });
});
