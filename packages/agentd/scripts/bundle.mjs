// Bundles ciab-agentd into one file that any sandbox runs with a plain `node`.
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import path from "node:path";

const packageDirectory = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const agentdBundlePath = path.join(packageDirectory, "dist", "agentd.mjs");

export async function bundleAgentd() {
  await build({
    entryPoints: [path.join(packageDirectory, "src", "main.ts")],
    outfile: agentdBundlePath,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    minify: false,
    sourcemap: false,
    logLevel: "warning",
    // ws is CommonJS and requires node's modules; an ES module bundle needs a real `require` for that.
    banner: { js: 'import { createRequire as __ciabCreateRequire } from "node:module"; const require = __ciabCreateRequire(import.meta.url);' },
  });
  return agentdBundlePath;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await bundleAgentd();
  console.log(agentdBundlePath);
}
