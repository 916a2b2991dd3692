// Builds the CLI to plain JavaScript in dist/: one module per command (esbuild's splitting), so a start
// loads only the program and the command that runs. The SDK, the protocol and the CLI's npm
// dependencies are bundled in, so the packed CLI needs nothing from the registry.
import { build } from "esbuild";
import { mkdtempSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const packageDirectory = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const cliDistDirectory = path.join(packageDirectory, "dist");
/** The source trees the bundle is made of; bin/ciab.mjs falls back to them when one is newer than the build. */
export const cliSourceDirectories = ["cli", "sdk", "protocol"].map((name) =>
  path.join(packageDirectory, "..", name, "src"),
);

/** The newest modification time of any file under the directories, in ms. */
export function newestSourceTime(directories = cliSourceDirectories) {
  let newest = 0;
  for (const directory of directories) {
    for (const entry of readdirSync(directory, { recursive: true, withFileTypes: true })) {
      if (entry.isFile()) newest = Math.max(newest, statSync(path.join(entry.parentPath ?? entry.path, entry.name)).mtimeMs);
    }
  }
  return newest;
}

export async function buildCli() {
  const sourceTime = newestSourceTime();
  // Built beside dist and swapped in, so a CLI starting meanwhile never sees half a build.
  const staging = mkdtempSync(`${cliDistDirectory}.building-`);
  await build({
    entryPoints: { main: path.join(packageDirectory, "src", "main.ts") },
    outdir: staging,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    chunkNames: "chunks/[name]-[hash]",
    // The SDK from its sources, as in the rest of the checkout (packages/sdk/package.json).
    conditions: ["ciab-source"],
    // The server runs from its own package (a checkout); ws's optional native helpers are optional.
    external: ["@ciab/server", "tsx", "tsx/*", "bufferutil", "utf-8-validate"],
    // ws and commander are CommonJS and require node's modules; an ES module bundle needs a real `require`.
    banner: { js: 'import { createRequire as __ciabCreateRequire } from "node:module"; const require = __ciabCreateRequire(import.meta.url);' },
    logLevel: "warning",
  });
  writeFileSync(path.join(staging, "build.json"), `${JSON.stringify({ sourceTime })}\n`);
  const old = `${staging}.old`;
  try {
    renameSync(cliDistDirectory, old);
  } catch (error) {
    if (error.code !== "ENOENT") throw error;
  }
  try {
    renameSync(staging, cliDistDirectory);
  } catch (error) {
    // Another build (a second test run) swapped its own in meanwhile; it is made of the same sources.
    if (error.code !== "ENOTEMPTY" && error.code !== "EEXIST") throw error;
    rmSync(staging, { recursive: true, force: true });
  }
  rmSync(old, { recursive: true, force: true });
  return cliDistDirectory;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(await buildCli());
}
