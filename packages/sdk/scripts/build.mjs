// Builds the SDK to dist/: an ES module and a CommonJS file with @ciab/protocol bundled in, and
// declarations for both, so the packed SDK depends on nothing unpublished.
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const packageDirectory = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const distDirectory = path.join(packageDirectory, "dist");
const typesDirectory = path.join(distDirectory, "types");

export async function buildSdk() {
  rmSync(distDirectory, { recursive: true, force: true });
  const common = {
    entryPoints: [path.join(packageDirectory, "src", "index.ts")],
    bundle: true,
    platform: "node",
    target: "node20",
    // Published packages stay dependencies; the workspace's own are bundled.
    external: ["ws", "zod"],
    logLevel: "warning",
  };
  await build({ ...common, format: "esm", outfile: path.join(distDirectory, "index.js") });
  await build({ ...common, format: "cjs", outfile: path.join(distDirectory, "index.cjs") });
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  execFileSync(process.execPath, [tsc, "-p", path.join(packageDirectory, "tsconfig.build.json")], { stdio: "inherit" });
  pointDeclarationsAtBundledProtocol();
  writeFileSync(path.join(distDirectory, "index.d.ts"), 'export * from "./types/sdk/src/index.js";\n');
  writeFileSync(path.join(distDirectory, "index.d.cts"), 'export * from "./types/sdk/src/index.js";\n');
  return distDirectory;
}

/** The SDK's declarations import `@ciab/protocol`; in the package its declarations sit beside them. */
function pointDeclarationsAtBundledProtocol() {
  const sdkTypes = path.join(typesDirectory, "sdk", "src");
  const protocolIndex = path.join(typesDirectory, "protocol", "src", "index.js");
  for (const name of readdirSync(sdkTypes, { recursive: true })) {
    if (!name.endsWith(".d.ts")) continue;
    const file = path.join(sdkTypes, name);
    const relative = path.relative(path.dirname(file), protocolIndex);
    const text = readFileSync(file, "utf8").replaceAll('"@ciab/protocol"', JSON.stringify(relative.startsWith(".") ? relative : `./${relative}`));
    writeFileSync(file, text);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(await buildSdk());
}
