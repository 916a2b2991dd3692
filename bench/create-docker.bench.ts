// Create-to-ready through the API vs raw `docker run -d` plus one `docker exec`. Target ratio ≤ 1.2.
import { execFileAsync, measure, report } from "./measure.js";
import { startBenchServer } from "./bench-server.js";

const bench = await startBenchServer();
const baselineContainers: string[] = [];
try {
  const ours = await measure(15, async () => {
    await bench.call("POST", "/sandboxes", { runtime: "docker" });
  }, 2);
  const baseline = await measure(15, async () => {
    const { stdout } = await execFileAsync("docker", ["run", "-d", "--network", "none", "ciab/default:bookworm", "sleep", "600"]);
    const container = stdout.trim();
    baselineContainers.push(container);
    await execFileAsync("docker", ["exec", container, "true"]);
  }, 2);
  report("create-docker", ours, baseline);
} finally {
  if (baselineContainers.length) await execFileAsync("docker", ["rm", "-f", ...baselineContainers]).catch(() => undefined);
  await bench.close();
}
