import { afterAll, beforeAll, expect, test } from "vitest";
import { gatewaySectionSchema } from "../../packages/server/src/config/config-schema.js";
import { createGatewayService, type GatewayService } from "../../packages/server/src/gateway/gateway-service.js";
import { createSilentLogger } from "../../packages/server/src/logger.js";
import type { ProviderName } from "../../packages/server/src/providers/provider.js";
import { hashToken } from "../../packages/server/src/services/auth-service.js";
import { createEventService } from "../../packages/server/src/services/event-service.js";
import { createSessionGateway } from "../../packages/server/src/services/session-gateway.js";
import type { SessionRecord } from "../../packages/server/src/store/records.js";
import { createSqliteStore } from "../../packages/server/src/store/sqlite/sqlite-store.js";
import type { Store } from "../../packages/server/src/store/store.js";
import { startModelServer, type ModelServer } from "../harness/model-server/model-server.js";
import { makeTempDirectory } from "../harness/temp-directory.js";
import { request } from "../gateway/gateway-fixtures.js";

const data = makeTempDirectory("ciab-gw-scope-");
let store: Store;
let model: ModelServer;
let gateway: GatewayService;
let socketPath: string;

function session(id: string, provider: ProviderName, token: string): SessionRecord {
  const now = new Date().toISOString();
  return {
    id,
    workspaceID: "ws_scope",
    sandboxID: "sbx_scope",
    ownsSandbox: false,
    keepSandbox: false,
    provider,
    prompt: "go",
    model: null,
    repo: null,
    sealedRepoURL: null,
    sealedEnv: "{}",
    envKeys: [],
    sandboxRequest: {},
    state: "running",
    exitCode: null,
    failureReason: null,
    failureMessage: null,
    processPID: null,
    stdoutOffset: 0,
    gatewayTokenHash: hashToken(token),
    inputTokens: 0,
    outputTokens: 0,
    costUSD: 0,
    userID: "usr_scope",
    endReason: null,
    usdPerHour: 0,
    createdAt: now,
    updatedAt: now,
    startedAt: now,
    endedAt: null,
  };
}

beforeAll(async () => {
  store = createSqliteStore({ filename: ":memory:" });
  await store.migrate();
  await store.workspaces.create({ id: "ws_scope", name: "scope", createdAt: new Date().toISOString() });
  await store.sessions.create(session("ses_claude", "claude-code", "ciabgw_claude"));
  await store.sessions.create(session("ses_codex", "codex", "ciabgw_codex"));
  await store.sessions.create(session("ses_gemini", "gemini-cli", "ciabgw_gemini"));
  model = await startModelServer();
  const logger = createSilentLogger();
  gateway = createGatewayService({
    config: gatewaySectionSchema.parse({ anthropic_base_url: model.url, openai_base_url: model.url, google_base_url: model.url }),
    dataDirectory: data.path,
    sessions: createSessionGateway(store, createEventService(store), logger),
    secrets: { get: async () => "real-key" },
    logger,
  });
  socketPath = await gateway.open("sbx_scope");
});

afterAll(async () => {
  await gateway?.closeAll();
  await model?.close();
  await store?.close();
  data.remove();
});

const calls = {
  anthropic: { path: "/anthropic/v1/messages/count_tokens", header: (token: string) => ({ "x-api-key": token }) },
  openai: { path: "/openai/v1/models", header: (token: string) => ({ authorization: `Bearer ${token}` }), method: "GET" },
  google: { path: "/google/v1beta/models/gemini-2.5-flash:countTokens", header: (token: string) => ({ "x-goog-api-key": token }) },
};

test.each([
  ["ciabgw_claude", "anthropic"],
  ["ciabgw_codex", "openai"],
  ["ciabgw_gemini", "google"],
] as const)("a session's token (%s) works only on its own provider's API (%s)", async (token, own) => {
  for (const [api, call] of Object.entries(calls)) {
    const before = model.requests.length;
    const method = "method" in call ? call.method : "POST";
    const answer = await request({ socketPath }, { method, path: call.path, headers: call.header(token), ...(method === "POST" && { body: "{}" }) });
    if (api === own) {
      expect(answer.status, `${token} on ${api}`).toBe(200);
      expect(model.requests.length).toBe(before + 1);
    } else {
      expect(answer.status, `${token} on ${api}`).toBe(403);
      expect(JSON.parse(answer.body).error).toMatchObject({ code: "forbidden", message: expect.stringContaining(`does not use the ${api} API`) });
      expect(model.requests.length).toBe(before);
    }
  }
});

test("a HEAD of an API's base URL (a connection warm-up) is answered by the gateway itself", async () => {
  const before = model.requests.length;
  for (const path of ["/anthropic", "/openai/", "/google"]) {
    expect((await request({ socketPath }, { method: "HEAD", path })).status, path).toBe(200);
  }
  expect((await request({ socketPath }, { method: "HEAD", path: "/anthropic/v1/messages" })).status).toBe(403);
  expect(model.requests.length).toBe(before);
});
