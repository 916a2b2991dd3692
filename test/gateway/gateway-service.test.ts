import { existsSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { createGatewayService, type GatewayService } from "../../packages/server/src/gateway/gateway-service.js";
import { gatewaySectionSchema } from "../../packages/server/src/config/config-schema.js";
import { createSilentLogger } from "../../packages/server/src/logger.js";
import { makeTempDirectory } from "../harness/temp-directory.js";
import { fakeSecrets, fakeSessions, openStream, request } from "./gateway-fixtures.js";
import { startUpstreamStub, type UpstreamStub } from "./upstream-stub.js";

const data = makeTempDirectory("ciab-gateway-");
const { sessions, cutOff, usage } = fakeSessions({
  "tok-a": { sessionID: "ses_a", workspaceID: "wsp_1", sandboxID: "sbx_a" },
  "tok-b": { sessionID: "ses_b", workspaceID: "wsp_1", sandboxID: "sbx_b" },
  "tok-cut": { sessionID: "ses_cut", workspaceID: "wsp_1", sandboxID: "sbx_a" },
  "tok-nokey": { sessionID: "ses_n", workspaceID: "wsp_2", sandboxID: "sbx_a" },
  "tok-down": { sessionID: "ses_d", workspaceID: "wsp_1", sandboxID: "sbx_down" },
});
const secrets = fakeSecrets({ wsp_1: { ANTHROPIC_API_KEY: "sk-ant-real", OPENAI_API_KEY: "sk-oai-real", GEMINI_API_KEY: "gm-real" } });
let stub: UpstreamStub;
let gateway: GatewayService;
let socketPath: string;

beforeAll(async () => {
  stub = await startUpstreamStub();
  const config = gatewaySectionSchema.parse({
    anthropic_base_url: stub.url,
    openai_base_url: `${stub.url}/v1`,
    google_base_url: stub.url,
  });
  gateway = createGatewayService({ config, dataDirectory: data.path, sessions, secrets, logger: createSilentLogger() });
  socketPath = await gateway.open("sbx_a");
  await gateway.open("sbx_b");
  cutOff.add("ses_cut");
});

afterAll(async () => {
  await gateway.closeAll();
  await stub.close();
  data.remove();
});

const lastUpstream = () => stub.requests.at(-1)!;
const messages = JSON.stringify({ model: "claude-sonnet-4-5-20250929", max_tokens: 10, messages: [] });

test("opens the socket in the sandbox's run dir, idempotently", async () => {
  expect(socketPath).toBe(path.join(data.path, "sandboxes", "sbx_a", "run", "gateway.sock"));
  expect(await gateway.open("sbx_a")).toBe(socketPath);
});

test("anthropic: the token is swapped for the real key and the path and query pass through", async () => {
  const answer = await request({ socketPath }, { path: "/anthropic/v1/messages?beta=true", headers: { "x-api-key": "tok-a", "anthropic-version": "2023-06-01" }, body: messages });
  expect(answer.status).toBe(200);
  const seen = lastUpstream();
  expect(seen.url).toBe("/v1/messages?beta=true");
  expect(seen.headers["x-api-key"]).toBe("sk-ant-real");
  expect(seen.headers["anthropic-version"]).toBe("2023-06-01");
  expect(JSON.stringify(seen.headers)).not.toContain("tok-a");
  expect(JSON.parse(seen.body)).toEqual(JSON.parse(messages));
});

test("openai: Bearer token swapped; a /v1 in both the base URL and the path is written once", async () => {
  const body = JSON.stringify({ model: "gpt-4o-mini", messages: [] });
  const answer = await request({ socketPath }, { path: "/openai/v1/chat/completions", headers: { authorization: "Bearer tok-a" }, body });
  expect(answer.status).toBe(200);
  expect(lastUpstream().url).toBe("/v1/chat/completions");
  expect(lastUpstream().headers.authorization).toBe("Bearer sk-oai-real");
});

test("google: a ?key= token is dropped from the query and the real key sent as x-goog-api-key", async () => {
  const answer = await request({ socketPath }, { path: "/google/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse&key=tok-a", body: "{}" });
  expect(answer.status).toBe(200);
  expect(lastUpstream().url).toBe("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse");
  expect(lastUpstream().headers["x-goog-api-key"]).toBe("gm-real");
  expect(answer.body).toContain("world");
});

test("a workspace without the secret is forwarded with no key at all", async () => {
  await request({ socketPath }, { path: "/anthropic/v1/messages", headers: { "x-api-key": "tok-nokey" }, body: messages });
  expect(lastUpstream().headers["x-api-key"]).toBeUndefined();
  expect(lastUpstream().headers.authorization).toBeUndefined();
});

test("unknown, missing and other sandboxes' tokens are 401; a cut-off session is 403", async () => {
  const before = stub.requests.length;
  const refused: Array<Record<string, string>> = [{ "x-api-key": "nope" }, {}, { "x-api-key": "tok-b" }];
  for (const headers of refused) {
    const answer = await request({ socketPath }, { path: "/anthropic/v1/messages", headers, body: messages });
    expect(answer.status).toBe(401);
    expect(JSON.parse(answer.body).error.code).toBe("unauthorized");
  }
  const cut = await request({ socketPath }, { path: "/anthropic/v1/messages", headers: { "x-api-key": "tok-cut" }, body: messages });
  expect(cut.status).toBe(403);
  expect(JSON.parse(cut.body).error).toMatchObject({ code: "forbidden", message: expect.stringContaining("cut off") });
  const unknownAPI = await request({ socketPath }, { path: "/mistral/v1/chat", headers: { "x-api-key": "tok-a" } });
  expect(JSON.parse(unknownAPI.body).error.code).toBe("forbidden");
  expect(stub.requests.length).toBe(before);
});

test("a stream's first chunk arrives while the upstream still holds it open; usage is recorded once with cost", async () => {
  usage.length = 0;
  const release = stub.hold();
  const { response } = await openStream({ socketPath }, {
    path: "/anthropic/v1/messages",
    headers: { "x-api-key": "tok-a" },
    body: JSON.stringify({ model: "claude-sonnet-4-5-20250929", stream: true }),
  });
  expect(response.headers["content-type"]).toBe("text/event-stream");
  const chunks = response[Symbol.asyncIterator]();
  const first = String((await chunks.next()).value);
  expect(first).toContain("message_start");
  expect(usage).toHaveLength(0); // the upstream has not finished: nothing metered yet
  release();
  let rest = "";
  for (let next = await chunks.next(); !next.done; next = await chunks.next()) rest += String(next.value);
  expect(rest).toContain("message_stop");
  expect(usage).toEqual([
    {
      sessionID: "ses_a",
      usage: {
        api: "anthropic",
        model: "claude-sonnet-4-5-20250929",
        input_tokens: 1000,
        output_tokens: 500,
        cache_read_tokens: 2000,
        cache_write_tokens: 400,
        // 1000×3 + 500×15 + 2000×0.3 + 400×3.75 per million
        cost_usd: 0.0126,
      },
    },
  ]);
});

test("usage from OpenAI chat and Responses streams and from Google", async () => {
  usage.length = 0;
  const openai = { socketPath };
  await request(openai, { path: "/openai/v1/chat/completions", headers: { authorization: "Bearer tok-a" }, body: JSON.stringify({ model: "gpt-4o", stream: true }) });
  await request(openai, { path: "/openai/v1/responses", headers: { authorization: "Bearer tok-a" }, body: JSON.stringify({ model: "gpt-5", stream: true }) });
  await request(openai, { path: "/google/v1beta/models/gemini-2.5-pro:generateContent", headers: { "x-goog-api-key": "tok-a" }, body: "{}" });
  expect(usage.map((entry) => entry.usage)).toEqual([
    { api: "openai", model: "gpt-4o", input_tokens: 1000, output_tokens: 300, cache_read_tokens: 200, cache_write_tokens: 0, cost_usd: 0.00575 },
    { api: "openai", model: "gpt-5", input_tokens: 800, output_tokens: 70, cache_read_tokens: 100, cache_write_tokens: 0, cost_usd: 0.0017125 },
    { api: "google", model: "gemini-2.5-pro", input_tokens: 800, output_tokens: 150, cache_read_tokens: 0, cache_write_tokens: 0, cost_usd: 0.0025 },
  ]);
});

test("the agent hanging up aborts the upstream request", async () => {
  const release = stub.hold();
  const { response, abort } = await openStream({ socketPath }, { path: "/anthropic/v1/messages", headers: { "x-api-key": "tok-a" }, body: JSON.stringify({ stream: true }) });
  await new Promise((resolve) => response.once("data", resolve));
  abort();
  await lastUpstream().closed; // resolves only once the gateway dropped its upstream connection
  release();
});

test("an upstream that is down answers 502 runtime_error", async () => {
  const down = createGatewayService({
    config: gatewaySectionSchema.parse({ anthropic_base_url: "http://127.0.0.1:1" }),
    dataDirectory: data.path,
    sessions,
    secrets,
    logger: createSilentLogger(),
  });
  try {
    const downSocket = await down.open("sbx_down");
    const answer = await request({ socketPath: downSocket }, { path: "/anthropic/v1/messages", headers: { "x-api-key": "tok-down" }, body: messages });
    expect(answer.status).toBe(502);
    expect(JSON.parse(answer.body).error).toMatchObject({ code: "runtime_error", message: expect.stringContaining("ECONNREFUSED") });
  } finally {
    await down.closeAll();
  }
});

test("close removes the socket; a data dir too deep for sun_path goes through a short link", async () => {
  const deep = makeTempDirectory("ciab-gateway-deep-");
  const dataDirectory = path.join(deep.path, "a".repeat(60), "b".repeat(30));
  const service = createGatewayService({ config: gatewaySectionSchema.parse({ anthropic_base_url: "http://127.0.0.1:1" }), dataDirectory, sessions, secrets, logger: createSilentLogger() });
  try {
    const longSocket = await service.open("sbx_a");
    expect(Buffer.byteLength(longSocket)).toBeGreaterThan(107);
    const answer = await request({ socketPath: path.join(path.dirname(await shortAddress(longSocket)), "gateway.sock") }, {
      path: "/anthropic/v1/messages",
      headers: { "x-api-key": "tok-a" },
      body: messages,
    });
    expect(answer.status).toBe(502); // served: the upstream of this service is down on purpose
    await service.close("sbx_a");
    await service.close("sbx_a");
    expect(existsSync(longSocket)).toBe(false);
  } finally {
    await service.closeAll();
    deep.remove();
  }
});

async function shortAddress(socketPath: string): Promise<string> {
  const { agentSocketAddress } = await import("../../packages/server/src/runtimes/local/agent-socket.js");
  return agentSocketAddress(socketPath);
}
