import path from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { gatewaySectionSchema } from "../../packages/server/src/config/config-schema.js";
import { createGatewayService, type GatewayService } from "../../packages/server/src/gateway/gateway-service.js";
import { createSilentLogger } from "../../packages/server/src/logger.js";
import { makeTempDirectory } from "../harness/temp-directory.js";
import { fakeSecrets, fakeSessions, openStream, request, startAgentdWithGateway } from "./gateway-fixtures.js";
import { startUpstreamStub, type UpstreamStub } from "./upstream-stub.js";

const data = makeTempDirectory("ciab-gateway-relay-");
const { sessions, usage } = fakeSessions({ "tok-a": { sessionID: "ses_a", workspaceID: "wsp_1", sandboxID: "sbx_a" } });
let stub: UpstreamStub;
let gateway: GatewayService;
let agentd: { gatewayPort: number; stop(): Promise<void> };

beforeAll(async () => {
  stub = await startUpstreamStub();
  gateway = createGatewayService({
    config: gatewaySectionSchema.parse({ anthropic_base_url: stub.url }),
    dataDirectory: data.path,
    sessions,
    secrets: fakeSecrets({ wsp_1: { ANTHROPIC_API_KEY: "sk-ant-real" } }),
    logger: createSilentLogger(),
  });
  const socketPath = await gateway.open("sbx_a");
  agentd = await startAgentdWithGateway(path.join(data.path, "agentd"), socketPath);
});

afterAll(async () => {
  await agentd?.stop();
  await gateway.closeAll();
  await stub.close();
  data.remove();
});

test("an agent reaches the gateway through agentd's loopback port", async () => {
  const target = { port: agentd.gatewayPort };
  const body = JSON.stringify({ model: "claude-haiku-4-5", max_tokens: 5, messages: [] });
  const answer = await request(target, { path: "/anthropic/v1/messages?beta=true", headers: { "x-api-key": "tok-a" }, body });
  expect(answer.status).toBe(200);
  expect(stub.requests.at(-1)).toMatchObject({ url: "/v1/messages?beta=true", headers: { "x-api-key": "sk-ant-real" } });

  const refused = await request(target, { path: "/anthropic/v1/messages", headers: { "x-api-key": "stolen" }, body });
  expect(refused.status).toBe(401);
});

test("a stream through the relay arrives chunk by chunk and is metered", async () => {
  usage.length = 0;
  const release = stub.hold();
  const { response } = await openStream({ port: agentd.gatewayPort }, {
    path: "/anthropic/v1/messages",
    headers: { "x-api-key": "tok-a" },
    body: JSON.stringify({ model: "claude-haiku-4-5", stream: true }),
  });
  const chunks = response[Symbol.asyncIterator]();
  expect(String((await chunks.next()).value)).toContain("message_start");
  release();
  let rest = "";
  for (let next = await chunks.next(); !next.done; next = await chunks.next()) rest += String(next.value);
  expect(rest).toContain("message_stop");
  expect(usage).toHaveLength(1);
  expect(usage[0]!.usage).toMatchObject({ model: "claude-haiku-4-5", input_tokens: 1000, output_tokens: 500 });
});
