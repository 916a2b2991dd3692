// builtin://default-docker through the API (Packer's docker builder) vs a plain `docker build` of the same
// steps: the same host package export, the same agent copy, the same commands. Target ratio ≤ 1.2.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execFileAsync, measure, report } from "./measure.js";
import { startBenchServer } from "./bench-server.js";

const templateDirectory = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "packages", "server", "src", "images", "builtin", "default-docker");
const toolsModules = path.join(homedir(), ".cache", "ciab", "tools", "node_modules");
const iterations = Number(process.env.CIAB_BENCH_ITERATIONS ?? 2);

const bench = await startBenchServer();
const images: string[] = [];
try {
  const ours = await measure(iterations, async () => {
    const build = (await bench.call("POST", "/images/build", { template: "builtin://default-docker", provider: "pi", wait: true })).body as unknown as { state: string; error: string | null; image_id: string };
    if (build.state !== "succeeded") throw new Error(`build failed: ${build.error}`);
    await bench.call("DELETE", `/images/${build.image_id}`);
  }, 0);
  const baseline = await measure(iterations, async () => {
    const context = mkdtempSync(path.join(tmpdir(), "ciab-bench-build-"));
    try {
      cpSync(templateDirectory, context, { recursive: true });
      await execFileAsync("sh", [path.join(context, "export-host-packages.sh"), path.join(context, "host-packages.tar"), "ciab/default:bookworm", "nodejs", "python3", "python3.11", "git", "curl", "jq", "ca-certificates"]);
      // copy-agent.cjs links into /usr/local/bin, which the host must keep: it runs against a staging root.
      const staged = path.join(context, "agent", "node_modules");
      await execFileAsync("node", ["-e", `const fs=require("fs");fs.symlinkSync=()=>{};fs.chmodSync=()=>{};fs.rmSync=()=>{};process.argv.splice(1,0,"copy");require(${JSON.stringify(path.join(context, "copy-agent.cjs"))})`, toolsModules, "@mariozechner/pi-coding-agent", "pi", staged]);
      writeFileSync(
        path.join(context, "Dockerfile"),
        [
          "FROM ciab/default:bookworm",
          "ADD host-packages.tar /",
          "COPY agent/node_modules /opt/ciab/agent/node_modules",
          "RUN ln -sf /opt/ciab/agent/node_modules/@mariozechner/pi-coding-agent/dist/cli.js /usr/local/bin/pi && (id ciab >/dev/null 2>&1 || useradd --create-home --shell /bin/bash ciab) && node --version && python3 --version && git --version && jq --version",
          'ENTRYPOINT [""]',
          'CMD ["/bin/bash"]',
          "WORKDIR /workspace",
        ].join("\n"),
      );
      const tag = `ciab/bench-baseline:${path.basename(context).toLowerCase()}`;
      await execFileAsync("docker", ["build", "--quiet", "--network", "none", "--tag", tag, context], { maxBuffer: 16 * 1024 * 1024 });
      images.push(tag);
    } finally {
      rmSync(context, { recursive: true, force: true });
    }
  }, 0);
  report("image-build-docker", ours, baseline, { iterations });
} finally {
  if (images.length) await execFileAsync("docker", ["rmi", "--force", ...images]).catch(() => undefined);
  await bench.close();
}
