#!/usr/bin/env node
// Runs the built CLI (dist/). In a checkout whose sources are newer than the build, or not built yet,
// runs the TypeScript sources under tsx instead, so an edit takes effect on the next run.
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";

const packageDirectory = fileURLToPath(new URL("..", import.meta.url));
const built = new URL("../dist/main.js", import.meta.url);

if (!existsSync(`${packageDirectory}src`) || buildIsCurrent()) {
  await import(built.href);
} else {
  const { register } = await import("node:module");
  // Workspace packages resolve to their TypeScript sources under the `ciab-source` export condition.
  register("data:text/javascript,export function resolve(s,c,n){return n(s,{...c,conditions:[...c.conditions,'ciab-source']})}");
  (await import("tsx/esm/api")).register();
  globalThis[Symbol.for("ciab.tsx-registered")] = true;
  await import("../src/main.ts");
}

function buildIsCurrent() {
  let sourceTime;
  try {
    ({ sourceTime } = JSON.parse(readFileSync(`${packageDirectory}dist/build.json`, "utf8")));
  } catch {
    return false;
  }
  for (const name of ["cli", "sdk", "protocol"]) {
    const directory = `${packageDirectory}../${name}/src`;
    for (const entry of readdirSync(directory, { recursive: true, withFileTypes: true })) {
      if (entry.isFile() && statSync(`${entry.parentPath ?? entry.path}/${entry.name}`).mtimeMs > sourceTime) return false;
    }
  }
  return true;
}
