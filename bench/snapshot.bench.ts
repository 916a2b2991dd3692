// A 200 MB work dir snapshotted through the API into the local artifact store, against `tar -czf` of the
// same dir on the host. Target: ratio ≤ 1.2 (the control plane only moves bytes; gzip is the cost).
import path from "node:path";
import { execFileAsync, measure, report } from "./measure.js";
import { startBenchServer } from "./bench-server.js";

const bench = await startBenchServer();
try {
  const { body } = await bench.call("POST", "/sandboxes", { runtime: "local" });
  const id = body.id as string;
  // Half incompressible, half text-like, in a few hundred files: what a build dir looks like to gzip.
  const fill = [
    "mkdir -p bin src",
    "head -c 100000000 /dev/urandom > bin/blob",
    "for i in $(seq 1 200); do seq $((i * 100000)) $((i * 100000 + 65000)) > src/f$i.txt; done",
    "du -sb . | cut -f1",
  ].join(" && ");
  const filled = await bench.call("POST", `/sandboxes/${id}/exec`, { command: ["sh", "-c", fill], timeout_ms: 300_000 });
  const bytes = Number(String(filled.body.stdout).trim());
  const workspace = path.join(bench.server.dataDirectory, "sandboxes", id, "workspace");
  const output = path.join(bench.server.dataDirectory, "baseline.tgz");
  const ours = await measure(3, () => bench.call("POST", `/sandboxes/${id}/snapshot`, {}), 1);
  const baseline = await measure(3, () => execFileAsync("tar", ["-czf", output, "-C", workspace, "."]), 1);
  report("snapshot", ours, baseline, { work_dir_bytes: bytes, target_ratio: 1.2 });
} finally {
  await bench.close();
}
