import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Provider } from "../../packages/server/src/providers/provider.js";
import { getProvider } from "../../packages/server/src/providers/provider-registry.js";
import { ensureToolInstalled } from "../../packages/server/src/providers/tool-installer.js";
import type { ModelServer, RecordedRequest } from "../harness/model-server/model-server.js";
import { startModelServer } from "../harness/model-server/model-server.js";
import { defaultToolsDirectory, runHeadlessOnHost } from "./run-headless-on-host.js";

/**
 * Every real agent CLI, launched on the host exactly as its provider says (files, command, env) against
 * the scripted model server: it must write hello.txt, and its output must parse into a tool call and a
 * result. Sandbox runs through the gateway are in test/sessions/agent-session.test.ts.
 */
interface HostCase {
  provider: Provider["name"];
  model?: string;
  keepStdinOpen?: boolean;
  /** The model calls to check, out of everything the server recorded. */
  calls: (request: RecordedRequest) => boolean;
  path: RegExp;
  /** How the session token must arrive. */
  auth: (request: RecordedRequest, token: string) => void;
  /** Checks only this agent's output allows. */
  extra?: (run: Awaited<ReturnType<typeof runHeadlessOnHost>>, calls: RecordedRequest[]) => void;
}

const anthropicExtra: HostCase["extra"] = (run, calls) => {
  expect(run.events.map((event) => event.type)).toContain("file.changed");
  expect(run.events.find((event) => event.type === "agent.result")?.data).toMatchObject({ text: "done: hello.txt written" });
  expect(run.events.find((event) => event.type === "usage.reported")?.data).toMatchObject({ input_tokens: 240, output_tokens: 60, source: "agent" });
  expect(calls).toHaveLength(2);
  for (const request of calls) expect(request.body).toMatchObject({ model: "claude-sonnet-4-5", stream: true });
};
const bearer: HostCase["auth"] = (request, token) => expect(request.headers.authorization).toBe(`Bearer ${token}`);

const cases: HostCase[] = [
  {
    provider: "claude-code",
    model: "claude-sonnet-4-5",
    calls: (request) => request.method === "POST" && request.route === "/v1/messages",
    path: /^\/anthropic\/v1\/messages/,
    auth: (request, token) => expect(request.headers["x-api-key"]).toBe(token),
    extra: anthropicExtra,
  },
  {
    provider: "pi",
    model: "claude-sonnet-4-5",
    calls: (request) => request.method === "POST" && request.route === "/v1/messages",
    path: /^\/anthropic\/v1\/messages/,
    auth: (request, token) => expect(request.headers["x-api-key"]).toBe(token),
    extra: anthropicExtra,
  },
  {
    provider: "codex",
    keepStdinOpen: true,
    calls: (request) => request.route === "/v1/responses",
    path: /^\/openai\/v1\/responses/,
    auth: bearer,
  },
  {
    provider: "opencode",
    calls: (request) => request.method === "POST" && request.route === "/v1/chat/completions",
    path: /^\/openai\/v1\/chat\/completions/,
    auth: bearer,
  },
  {
    provider: "gemini-cli",
    calls: (request) => request.method === "POST" && /:(stream)?[gG]enerateContent$/.test(request.route),
    path: /^\/google\/v1beta\/models\/gemini-2\.5-pro:/,
    auth: (request, token) => expect(request.headers["x-goog-api-key"]).toBe(token),
  },
];

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe.each(cases)("$provider on the host", (hostCase) => {
  it("writes hello.txt through the model server and reports a tool call and a result", async () => {
    const provider = getProvider(hostCase.provider);
    await ensureToolInstalled(provider.install!, defaultToolsDirectory);
    const server: ModelServer = await startModelServer();
    cleanups.push(server.close);
    const run = await runHeadlessOnHost(provider, {
      prompt: "Create hello.txt",
      modelServerURL: server.url,
      ...(hostCase.model !== undefined && { model: hostCase.model }),
      ...(hostCase.keepStdinOpen && { keepStdinOpen: true }),
    });
    cleanups.push(run.remove);

    expect(run.exitCode, run.stderr).toBe(0);
    expect(await readFile(path.join(run.context.workDirectory, "hello.txt"), "utf8")).toBe(`hello from ${hostCase.provider}`);
    const types = run.events.map((event) => event.type);
    expect(types).toContain("tool.call");
    expect(types).not.toContain("session.error");
    expect(run.events.find((event) => event.type === "agent.result")?.data).toMatchObject({ is_error: false });

    const calls = server.requests.filter(hostCase.calls);
    expect(calls.length).toBeGreaterThanOrEqual(2);
    for (const request of calls) {
      expect(request.path).toMatch(hostCase.path);
      hostCase.auth(request, run.context.gatewayToken);
    }
    hostCase.extra?.(run, calls);
  }, 300_000);
});
