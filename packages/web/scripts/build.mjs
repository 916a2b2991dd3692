// Builds the UI to dist/ with Vite: index.html and hashed assets, no inline script (the server's CSP
// refuses any). Run as `npm run build -w @ciab/web` (scripts/install.sh does); tests call `ensureWebBuild`.
import { execFile } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import react from "@vitejs/plugin-react";
import { build, defaultClientConditions } from "vite";
import { webDistDirectory, webPackageDirectory } from "./dist-path.mjs";

export async function buildWeb() {
  // Vite and the React plugin pick development JSX and React's development build from NODE_ENV, which
  // callers set otherwise (vitest sets `test`): such a caller builds in a child that says production.
  if (process.env.NODE_ENV !== "production") {
    await promisify(execFile)(process.execPath, [fileURLToPath(import.meta.url)], { env: { ...process.env, NODE_ENV: "production" } });
    return webDistDirectory;
  }
  // Built beside dist and swapped in, so a server meanwhile never serves half a build.
  const staging = mkdtempSync(`${webDistDirectory}.building-`);
  await build({
    configFile: false,
    mode: "production",
    root: webPackageDirectory,
    base: "/",
    logLevel: "warn",
    plugins: [react()],
    // The SDK's SSE parser from its sources, as the rest of the checkout reads workspace packages.
    resolve: { conditions: ["ciab-source", ...defaultClientConditions] },
    build: {
      outDir: staging,
      emptyOutDir: true,
      target: "es2022",
      sourcemap: false,
      // A module preload polyfill would be one more script; every browser this targets has modulepreload.
      modulePreload: { polyfill: false },
    },
  });
  const old = `${staging}.old`;
  if (existsSync(webDistDirectory)) renameSync(webDistDirectory, old);
  chmodSync(staging, 0o755);
  renameSync(staging, webDistDirectory);
  rmSync(old, { recursive: true, force: true });
  return webDistDirectory;
}

/** Builds when dist/ has no index.html yet, or any source is newer than it. */
export async function ensureWebBuild() {
  const built = modifiedTime(path.join(webDistDirectory, "index.html"));
  if (built === 0 || newestSourceTime() > built) await buildWeb();
  return webDistDirectory;
}

function newestSourceTime() {
  let newest = modifiedTime(path.join(webPackageDirectory, "index.html"));
  for (const entry of readdirSync(path.join(webPackageDirectory, "src"), { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) newest = Math.max(newest, modifiedTime(path.join(entry.parentPath ?? entry.path, entry.name)));
  }
  return newest;
}

function modifiedTime(file) {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await buildWeb();
}
