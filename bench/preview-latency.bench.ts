// A small GET (20 bytes) through a preview URL against the same GET straight to the server in the
// sandbox (local, host network). Both sides keep the caller's connection alive, as browsers do; the
// preview opens a fresh tunnel to the app per request. Target: added p50 ≤ 1 ms.
import http from "node:http";
import { bundleAgentd } from "../packages/agentd/scripts/bundle.mjs";
import { percentile, report } from "./measure.js";
import { get, startPreviewFixture } from "./preview-fixture.js";

const iterations = 1000;
const warmup = 100;

await bundleAgentd();
const fixture = await startPreviewFixture();
try {
  const oursAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const baselineAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const timed = async (endpoint: typeof fixture.ours, agent: http.Agent) => {
    const started = performance.now();
    await get(endpoint, "/style.css", agent);
    return performance.now() - started;
  };
  const ours: number[] = [];
  const baseline: number[] = [];
  for (let index = 0; index < iterations + warmup; index += 1) {
    const oursSample = await timed(fixture.ours, oursAgent);
    const baselineSample = await timed(fixture.direct, baselineAgent);
    if (index >= warmup) {
      ours.push(oursSample);
      baseline.push(baselineSample);
    }
  }
  oursAgent.destroy();
  baselineAgent.destroy();
  const round = (value: number) => Math.round(value * 1000) / 1000;
  report("preview-latency", ours, baseline, {
    added_p50_ms: round(percentile(ours, 0.5) - percentile(baseline, 0.5)),
    target_added_p50_ms: 1,
    baseline_kind: "local sandbox, network host, straight to 127.0.0.1:<port>",
  });
} finally {
  await fixture.close();
}
