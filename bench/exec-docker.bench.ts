// `true` through the API on a docker sandbox vs raw `docker exec` on the same container. Target ratio ≤ 0.2.
import { execFileAsync, measure, report } from "./measure.js";
import { startBenchServer } from "./bench-server.js";

const bench = await startBenchServer();
try {
  const { body } = await bench.call("POST", "/sandboxes", { runtime: "docker" });
  const id = body.id as string;
  const ours = await measure(300, () => bench.call("POST", `/sandboxes/${id}/exec`, { command: ["true"] }), 20);
  const baseline = await measure(40, () => execFileAsync("docker", ["exec", `ciab-${id}`, "true"]), 3);
  report("exec-docker", ours, baseline);
} finally {
  await bench.close();
}
