// Start-up of the built CLI, next to `node -e 0` measured in the same rounds (interleaved, so load on
// the machine falls on all three alike). Targets: `ciab --help` p50 ≤ 2 × and `ciab sandbox list`
// p50 ≤ 3 × node's own start.
import path from "node:path";
import { buildCli } from "../packages/cli/scripts/build.mjs";
import { startBenchServer } from "./bench-server.js";
import { execFileAsync, percentile, report } from "./measure.js";

const bin = path.resolve(import.meta.dirname, "../packages/cli/bin/ciab.mjs");
const rounds = 40;
const warmup = 3;

await buildCli();
const bench = await startBenchServer();
try {
  const env = { ...process.env, CIAB_URL: bench.server.url, CIAB_TOKEN: bench.token };
  const timed = async (args: string[]): Promise<number> => {
    const started = performance.now();
    await execFileAsync(process.execPath, args, { env });
    return performance.now() - started;
  };
  const samples = { node: [] as number[], help: [] as number[], list: [] as number[] };
  for (let round = 0; round < warmup + rounds; round += 1) {
    const node = await timed(["-e", "0"]);
    const help = await timed([bin, "--help"]);
    const list = await timed([bin, "sandbox", "list"]);
    if (round < warmup) continue;
    samples.node.push(node);
    samples.help.push(help);
    samples.list.push(list);
  }
  report("cli-start-help", samples.help, samples.node, { baseline: "node -e 0", target_ratio: 2 });
  report("cli-start-list", samples.list, samples.node, { baseline: "node -e 0", target_ratio: 3 });
} finally {
  await bench.close();
}
