// `true` through the API on a local (bubblewrap) sandbox. Target p50 ≤ 5 ms; baseline: spawning `true` directly.
import { execFileAsync, measure, report } from "./measure.js";
import { startBenchServer } from "./bench-server.js";

const bench = await startBenchServer();
try {
  const { body } = await bench.call("POST", "/sandboxes", { runtime: "local" });
  const id = body.id as string;
  const ours = await measure(500, () => bench.call("POST", `/sandboxes/${id}/exec`, { command: ["true"] }), 30);
  const baseline = await measure(200, () => execFileAsync("true"), 10);
  report("exec-local", ours, baseline, { target_p50_ms: 5 });
} finally {
  await bench.close();
}
