// Time to first byte of a streamed model response through agentd's loopback relay and the control plane's
// gateway (token check, key swap, usage metering), against the same request straight to the upstream stub.
// Target: added TTFB ≤ 2 ms p50. Both sides keep their connections alive, as model SDKs do.
import http from "node:http";
import path from "node:path";
import { bundleAgentd } from "../packages/agentd/scripts/bundle.mjs";
import { gatewaySectionSchema } from "../packages/server/src/config/config-schema.js";
import { createGatewayService } from "../packages/server/src/gateway/gateway-service.js";
import { createSilentLogger } from "../packages/server/src/logger.js";
import { fakeSecrets, fakeSessions, startAgentdWithGateway } from "../test/gateway/gateway-fixtures.js";
import { makeTempDirectory } from "../test/harness/temp-directory.js";
import { startUpstreamStub } from "../test/gateway/upstream-stub.js";
import { percentile, report } from "./measure.js";

/** Milliseconds from sending the request to the first body byte; the rest is drained before answering. */
function timeToFirstByte(port: number, route: string, agent: http.Agent | false, apiKey: string): Promise<number> {
  const body = JSON.stringify({ model: "claude-sonnet-4-5", stream: true, max_tokens: 5, messages: [] });
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const outgoing = http.request({ host: "127.0.0.1", port, method: "POST", path: route, headers: { "x-api-key": apiKey }, agent }, (response) => {
      let first: number | undefined;
      response.on("data", () => (first ??= performance.now() - started));
      response.once("end", () => (first === undefined ? reject(new Error(`empty answer ${response.statusCode}`)) : resolve(first)));
    });
    outgoing.once("error", reject);
    outgoing.end(body);
  });
}

await bundleAgentd();
const data = makeTempDirectory("ciab-bench-gateway-");
const stub = await startUpstreamStub();
const { sessions, usage } = fakeSessions({ "tok-bench": { sessionID: "ses_bench", workspaceID: "wsp_bench", sandboxID: "sbx_bench" } });
const gateway = createGatewayService({
  config: gatewaySectionSchema.parse({ anthropic_base_url: stub.url }),
  dataDirectory: data.path,
  sessions,
  secrets: fakeSecrets({ wsp_bench: { ANTHROPIC_API_KEY: "sk-bench" } }),
  logger: createSilentLogger(),
});
const agentd = await startAgentdWithGateway(path.join(data.path, "agentd"), await gateway.open("sbx_bench"));
const stubPort = Number(new URL(stub.url).port);

const throughGateway = (agent: http.Agent | false) => timeToFirstByte(agentd.gatewayPort, "/anthropic/v1/messages", agent, "tok-bench");
const direct = (agent: http.Agent | false) => timeToFirstByte(stubPort, "/v1/messages", agent, "sk-bench");

try {
  const oursAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const baselineAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const ours: number[] = [];
  const baseline: number[] = [];
  const iterations = 1000;
  // Interleaved, so drift in machine load lands on both sides alike.
  for (let index = 0; index < iterations + 100; index += 1) {
    const oursSample = await throughGateway(oursAgent);
    const baselineSample = await direct(baselineAgent);
    if (index >= 100) {
      ours.push(oursSample);
      baseline.push(baselineSample);
    }
  }
  const coldOurs: number[] = [];
  const coldBaseline: number[] = [];
  for (let index = 0; index < 200; index += 1) {
    coldOurs.push(await throughGateway(false));
    coldBaseline.push(await direct(false));
  }
  oursAgent.destroy();
  baselineAgent.destroy();
  if (usage.length !== iterations + 100 + 200) throw new Error(`usage recorded ${usage.length} times`);

  const round = (value: number) => Math.round(value * 1000) / 1000;
  const added = percentile(ours, 0.5) - percentile(baseline, 0.5);
  const coldAdded = percentile(coldOurs, 0.5) - percentile(coldBaseline, 0.5);
  console.log(`gateway-overhead new connection per request: added TTFB p50 ${round(coldAdded)} ms`);
  report("gateway-overhead", ours, baseline, {
    added_ttfb_p50_ms: round(added),
    added_ttfb_p50_new_connection_ms: round(coldAdded),
    target_added_ttfb_p50_ms: 2,
  });
} finally {
  await agentd.stop();
  await gateway.closeAll();
  await stub.close();
  data.remove();
}
