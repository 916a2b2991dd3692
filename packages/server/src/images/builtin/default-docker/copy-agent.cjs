// Copies an npm package and its dependency closure out of the host tools dir (mounted read-only) into the
// image, and links the package's binary onto PATH. Runs inside the build container with the image's node.
// Usage: node copy-agent.cjs FROM_NODE_MODULES PACKAGE BINARY TO_NODE_MODULES
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const [from, packageName, binary, to] = process.argv.slice(2);
const copied = new Set();

function copyPackage(name, required) {
  if (copied.has(name)) return;
  const source = path.join(from, name);
  if (!fs.existsSync(path.join(source, "package.json"))) {
    if (required) throw new Error(`package ${name} is not in ${from}: install the agent CLIs on the host first`);
    return;
  }
  copied.add(name);
  fs.cpSync(source, path.join(to, name), { recursive: true, verbatimSymlinks: true });
  const manifest = JSON.parse(fs.readFileSync(path.join(source, "package.json"), "utf8"));
  for (const dependency of Object.keys(manifest.dependencies ?? {})) copyPackage(dependency, true);
  // Optional dependencies are per platform: only those present on the host are wanted.
  for (const dependency of Object.keys(manifest.optionalDependencies ?? {})) copyPackage(dependency, false);
  // Packages nested in this one's node_modules resolve their own dependencies up at the top level.
  for (const nested of nestedPackages(path.join(source, "node_modules"))) {
    const inner = JSON.parse(fs.readFileSync(path.join(nested, "package.json"), "utf8"));
    for (const dependency of Object.keys(inner.dependencies ?? {})) {
      if (!fs.existsSync(path.join(nested, "node_modules", dependency)) && !fs.existsSync(path.join(source, "node_modules", dependency))) copyPackage(dependency, false);
    }
  }
}

function nestedPackages(directory) {
  if (!fs.existsSync(directory)) return [];
  const found = [];
  for (const entry of fs.readdirSync(directory)) {
    const entries = entry.startsWith("@") ? fs.readdirSync(path.join(directory, entry)).map((name) => path.join(entry, name)) : [entry];
    for (const name of entries) {
      const packageDirectory = path.join(directory, name);
      if (!fs.existsSync(path.join(packageDirectory, "package.json"))) continue;
      found.push(packageDirectory, ...nestedPackages(path.join(packageDirectory, "node_modules")));
    }
  }
  return found;
}

copyPackage(packageName, true);
const manifest = JSON.parse(fs.readFileSync(path.join(to, packageName, "package.json"), "utf8"));
const bin = typeof manifest.bin === "string" ? manifest.bin : manifest.bin?.[binary];
if (!bin) throw new Error(`package ${packageName} has no binary ${binary}`);
const target = path.join(to, packageName, bin);
fs.chmodSync(target, 0o755);
fs.rmSync(`/usr/local/bin/${binary}`, { force: true });
fs.symlinkSync(target, `/usr/local/bin/${binary}`);
console.log(`installed ${packageName}@${manifest.version} (${copied.size} packages) as /usr/local/bin/${binary}`);
