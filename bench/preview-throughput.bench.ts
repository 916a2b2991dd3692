// A 100 MiB download from a server in a local sandbox through its preview URL (control plane, agent
// channel over HTTP/2, agentd's CONNECT tunnel), against the same download straight from the server (the
// sandbox shares the host's network, so 127.0.0.1:<port> reaches it with no hop between).
// Target: throughput ratio ≥ 0.8.
import http from "node:http";
import { bundleAgentd } from "../packages/agentd/scripts/bundle.mjs";
import { report } from "./measure.js";
import { get, startPreviewFixture } from "./preview-fixture.js";

const mebibytes = 100;
const rounds = 5;

await bundleAgentd();
const fixture = await startPreviewFixture();
try {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const timed = async (endpoint: typeof fixture.ours) => {
    const started = performance.now();
    const bytes = await get(endpoint, `/bytes?mib=${mebibytes}`, agent);
    if (bytes !== mebibytes * 1024 * 1024) throw new Error(`received ${bytes} bytes`);
    return performance.now() - started;
  };
  await timed(fixture.ours);
  await timed(fixture.direct);
  const ours: number[] = [];
  const baseline: number[] = [];
  // Interleaved, so drift in machine load lands on both sides alike.
  for (let round = 0; round < rounds; round += 1) {
    ours.push(await timed(fixture.ours));
    baseline.push(await timed(fixture.direct));
  }
  agent.destroy();
  const median = (samples: number[]) => [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;
  const mbPerSecond = (ms: number) => Math.round((mebibytes * 1.048576 * 1000) / ms);
  report("preview-throughput", ours, baseline, {
    ours_mb_per_s: mbPerSecond(median(ours)),
    baseline_mb_per_s: mbPerSecond(median(baseline)),
    throughput_ratio: Math.round((median(baseline) / median(ours)) * 100) / 100,
    target_throughput_ratio: 0.8,
    baseline_kind: "local sandbox, network host, straight to 127.0.0.1:<port>",
  });
} finally {
  await fixture.close();
}
