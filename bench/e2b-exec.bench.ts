// `commands.run("true")` through E2B's SDK (pointed at ciab) next to our own SDK's `commands.run(["true"])`, on one
// local (bubblewrap) sandbox. E2B runs every command as `/bin/bash -l -c …` and follows it as a background
// process (two agent round trips), so the same login shell through our SDK is printed too, to tell the
// shell's cost from the adapter's.
import { Sandbox } from "e2b";
import { Ciab } from "../packages/sdk/src/index.js";
import { measure, percentile, report } from "./measure.js";
import { startBenchServer } from "./bench-server.js";

const bench = await startBenchServer();
try {
  const url = bench.server.url;
  const e2b = await Sandbox.create({ apiKey: bench.token, apiUrl: `${url}/e2b`, sandboxUrl: `${url}/e2b/envd` });
  const ciab = new Ciab({ url, token: bench.token });
  const sandbox = await ciab.sandboxes.get(e2b.sandboxId);
  const viaE2B = await measure(300, () => e2b.commands.run("true"), 20);
  const viaCiab = await measure(300, () => sandbox.commands.run(["true"]), 20);
  const loginShell = await measure(300, () => sandbox.commands.run(["/bin/bash", "-l", "-c", "true"]), 20);
  console.log(`e2b-exec our SDK, /bin/bash -l -c true: p50 ${Math.round(percentile(loginShell, 0.5) * 100) / 100} ms`);
  report("e2b-exec", viaE2B, viaCiab, { ours: "E2B SDK commands.run('true')", baseline: "ciab SDK commands.run(['true'])" });
  await e2b.kill();
} finally {
  await bench.close();
}
