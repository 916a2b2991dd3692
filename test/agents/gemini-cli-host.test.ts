import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { createGeminiCLIProvider } from "../../packages/server/src/providers/gemini-cli/index.js";
import { ensureToolInstalled } from "../../packages/server/src/providers/tool-installer.js";
import { startModelServer, type ModelServer } from "../harness/model-server/model-server.js";
import { defaultToolsDirectory, runHeadlessOnHost, type HeadlessRun } from "./run-headless-on-host.js";

const provider = createGeminiCLIProvider();
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("gemini-cli on the host", () => {
  beforeAll(async () => {
    await ensureToolInstalled(provider.install, defaultToolsDirectory);
  }, 300_000);

  it("writes hello.txt through the model server's Gemini API and reports a tool call and a result", async () => {
    const server: ModelServer = await startModelServer();
    cleanups.push(server.close);
    const run: HeadlessRun = await runHeadlessOnHost(provider, { prompt: "Create hello.txt", modelServerURL: server.url });
    cleanups.push(run.remove);

    expect(run.exitCode, run.stderr).toBe(0);
    expect(await readFile(path.join(run.context.workDirectory, "hello.txt"), "utf8")).toBe("hello from gemini-cli");
    const types = run.events.map((event) => event.type);
    expect(types).toContain("tool.call");
    expect(types).not.toContain("session.error");
    expect(run.events.find((event) => event.type === "agent.result")?.data).toMatchObject({ is_error: false });

    const calls = server.requests.filter((request) => request.method === "POST" && /:(stream)?[gG]enerateContent$/.test(request.route));
    expect(calls.length).toBeGreaterThanOrEqual(2);
    for (const request of calls) {
      expect(request.path).toMatch(/^\/google\/v1beta\/models\/gemini-2\.5-pro:/);
      expect(request.headers["x-goog-api-key"]).toBe(run.context.gatewayToken);
    }
  });
});
