// Create-to-ready of a local (bubblewrap) sandbox through the API. Target p50 ≤ 150 ms.
// Baseline: a bare `bwrap` start of `true` with the host's /usr, the floor any jail pays.
import { execFileAsync, measure, report } from "./measure.js";
import { startBenchServer } from "./bench-server.js";

const bench = await startBenchServer();
try {
  const ours = await measure(30, async () => {
    await bench.call("POST", "/sandboxes", { runtime: "local" });
  }, 3);
  const baseline = await measure(30, () =>
    execFileAsync("bwrap", ["--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib",
      "--symlink", "usr/lib64", "/lib64", "--proc", "/proc", "--dev", "/dev", "--unshare-pid", "--unshare-net", "true"]), 3);
  report("create-local", ours, baseline, { target_p50_ms: 150 });
} finally {
  await bench.close();
}
