// A 100 MiB download from a server in a local sandbox through its preview URL (control plane, agentd's
// raw tunnel), against the same download straight from the server (the sandbox shares the host's
// network, so 127.0.0.1:<port> reaches it with no hop between). Both sides are read by curl, a client in
// a process of its own as a browser is; the in-process Node client of earlier runs is also reported,
// since there one event loop carried the proxy and the reader at once. Target: throughput ratio ≥ 0.8.
// Two reference relays (one hop each, in processes of their own, no HTTP) show the ceiling of any proxy on
// this host: a bare Node pipe, and splice(2) that never copies bytes into the relay (when python3 is here).
import http from "node:http";
import os from "node:os";
import { bundleAgentd } from "../packages/agentd/scripts/bundle.mjs";
import { report } from "./measure.js";
import { cpuMsOf, ownCpuMs } from "./process-cpu.js";
import { curlGet, get, startPreviewFixture, type Endpoint } from "./preview-fixture.js";
import { startRelay, type Relay } from "./relays/relay.js";

const mebibytes = 100;
const bytes = mebibytes * 1024 * 1024;
const rounds = 5;

await bundleAgentd();
const fixture = await startPreviewFixture();
const relays: Relay[] = [];
try {
  const nodeRelay = await startRelay("node-pipe", fixture.direct.port);
  const spliceRelay = await startRelay("splice", fixture.direct.port).catch(() => undefined);
  relays.push(nodeRelay, ...(spliceRelay ? [spliceRelay] : []));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const inProcess = async (endpoint: Endpoint) => {
    const started = performance.now();
    const received = await get(endpoint, `/bytes?mib=${mebibytes}`, agent);
    if (received !== bytes) throw new Error(`received ${received} bytes`);
    return performance.now() - started;
  };
  const byCurl = (endpoint: Endpoint) => curlGet(endpoint, `/bytes?mib=${mebibytes}`, bytes);
  await byCurl(fixture.ours);
  await byCurl(fixture.direct);
  for (const relay of relays) await byCurl(relay.endpoint);
  const agentdCpuMs = cpuMsOf("node", "agentd.mjs", fixture.sandboxID);
  let controlPlaneCpu = 0;
  let agentdCpu = 0;
  const ours: number[] = [];
  const baseline: number[] = [];
  const oursInProcess: number[] = [];
  const baselineInProcess: number[] = [];
  const throughRelay = new Map<Relay, number[]>(relays.map((relay) => [relay, []]));
  // Interleaved, so drift in machine load lands on both sides alike.
  for (let round = 0; round < rounds; round += 1) {
    const cpuBefore = ownCpuMs();
    const agentdBefore = agentdCpuMs?.() ?? 0;
    ours.push(await byCurl(fixture.ours));
    controlPlaneCpu += ownCpuMs() - cpuBefore;
    agentdCpu += (agentdCpuMs?.() ?? 0) - agentdBefore;
    baseline.push(await byCurl(fixture.direct));
    oursInProcess.push(await inProcess(fixture.ours));
    baselineInProcess.push(await inProcess(fixture.direct));
    for (const [relay, samples] of throughRelay) samples.push(await byCurl(relay.endpoint));
  }
  agent.destroy();
  const median = (samples: number[]) => [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;
  const mbPerSecond = (ms: number) => Math.round((bytes / 1e6) * 1000 / ms);
  const ratio = (oursSide: number[], baselineSide: number[]) => Math.round((median(baselineSide) / median(oursSide)) * 100) / 100;
  report("preview-throughput", ours, baseline, {
    ours_mb_per_s: mbPerSecond(median(ours)),
    baseline_mb_per_s: mbPerSecond(median(baseline)),
    throughput_ratio: ratio(ours, baseline),
    target_throughput_ratio: 0.8,
    // Per download through the preview: where its CPU went (curl's own is in neither).
    control_plane_cpu_ms: Math.round(controlPlaneCpu / rounds),
    agentd_cpu_ms: agentdCpuMs ? Math.round(agentdCpu / rounds) : null,
    in_process_client_throughput_ratio: ratio(oursInProcess, baselineInProcess),
    in_process_client_ours_mb_per_s: mbPerSecond(median(oursInProcess)),
    // What one hop costs here whatever the proxy does: no relay can pass these ratios on this host.
    ceiling_node_pipe_relay_ratio: ratio(throughRelay.get(nodeRelay)!, baseline),
    ceiling_splice_relay_ratio: spliceRelay ? ratio(throughRelay.get(spliceRelay)!, baseline) : null,
    cores: os.availableParallelism(),
    baseline_kind: "local sandbox, network host, curl straight to 127.0.0.1:<port>",
  });
} finally {
  for (const relay of relays) relay.stop();
  await fixture.close();
}
