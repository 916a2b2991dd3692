import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { access, readFile } from "node:fs/promises";
import path from "node:path";
import { CiabError } from "@ciab/protocol";
import type { AgentClient } from "../agent-channel/agent-client.js";
import type { Provider } from "../providers/provider.js";

type ToolInstall = NonNullable<Provider["install"]>;

/** Where every machine expects the tools (local and docker mount the host's tools dir there). */
const machineToolsDirectory = "/opt/ciab/tools";

/**
 * Copies one agent CLI, with the npm packages it needs, from the host's tools dir into a machine that does
 * not mount that dir (ec2), over the agent channel. A machine that already has the binary costs one exec.
 * Answers whether it copied.
 */
export async function provideToolInMachine(
  agent: AgentClient,
  install: ToolInstall,
  toolsDirectory: string,
  signal: AbortSignal,
): Promise<boolean> {
  const binary = `${machineToolsDirectory}/node_modules/.bin/${install.binary}`;
  const probe = await agent.exec({ command: ["test", "-x", binary] }, signal);
  if (probe.exitCode === 0) return false;
  const paths = await packageClosure(toolsDirectory, install.npmPackage);
  const archive = `/workspace/.ciab-tools-${randomBytes(6).toString("hex")}.tar`;
  // Uncompressed: the channel is the bottleneck only across regions, and gzip would cost more CPU here.
  const tar = spawn("tar", ["-c", "-C", toolsDirectory, "--", ...paths, `node_modules/.bin/${install.binary}`], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  tar.stderr.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
  const exited = new Promise<number | null>((resolve) => tar.once("close", resolve));
  try {
    await agent.writeFile(archive, tar.stdout, 0o600, signal);
    const status = await exited;
    if (status !== 0) throw new CiabError("runtime_error", `cannot pack ${install.npmPackage} from ${toolsDirectory}: ${stderr.trim()}`);
    const unpack = await agent.exec(
      {
        command: ["sh", "-c", 'mkdir -p "$2" && tar -xf "$1" -C "$2"; status=$?; rm -f "$1"; exit $status', "unpack", archive, machineToolsDirectory],
      },
      signal,
    );
    if (unpack.exitCode !== 0) {
      throw new CiabError("runtime_error", `cannot unpack ${install.npmPackage} in the sandbox: ${unpack.stderr.trim().slice(0, 500)}`);
    }
    return true;
  } finally {
    tar.kill();
  }
}

interface LockFile {
  packages: Record<string, { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> }>;
}

/**
 * The paths (`node_modules/...`) of a package and everything it depends on, resolved as Node does: from
 * the nearest `node_modules` up. Read from the tools dir's package-lock.json; optional packages npm did not
 * install (other platforms) are left out.
 */
export async function packageClosure(toolsDirectory: string, npmPackage: string): Promise<string[]> {
  const lock = JSON.parse(await readFile(path.join(toolsDirectory, "package-lock.json"), "utf8")) as LockFile;
  const seen = new Set<string>();
  const pending = [`node_modules/${npmPackage}`];
  while (pending.length > 0) {
    const current = pending.pop()!;
    const entry = lock.packages[current];
    if (seen.has(current) || entry === undefined) continue;
    seen.add(current);
    for (const dependency of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies })) {
      const resolved = resolveFrom(lock, current, dependency);
      if (resolved !== undefined) pending.push(resolved);
    }
  }
  if (!seen.has(`node_modules/${npmPackage}`)) {
    throw new CiabError("runtime_error", `${npmPackage} is not installed in ${toolsDirectory}`);
  }
  // Platform packages of other systems stay in the lock file though npm skipped them.
  const present = await Promise.all([...seen].map((entry) => access(path.join(toolsDirectory, entry)).then(() => entry, () => undefined)));
  return present.filter((entry): entry is string => entry !== undefined).sort();
}

function resolveFrom(lock: LockFile, from: string, dependency: string): string | undefined {
  let base = from;
  for (;;) {
    const candidate = `${base}/node_modules/${dependency}`;
    if (lock.packages[candidate]) return candidate;
    const parent = base.lastIndexOf("/node_modules/");
    if (parent < 0) break;
    base = base.slice(0, parent);
  }
  return lock.packages[`node_modules/${dependency}`] ? `node_modules/${dependency}` : undefined;
}
