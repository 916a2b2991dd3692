/**
 * Installs the pinned agent CLIs (each provider's `install`) into the host tools dir that every sandbox
 * mounts at /opt/ciab/tools. Usage: node --import tsx scripts/install-agent-clis.ts [toolsDirectory]
 */
import { homedir } from "node:os";
import path from "node:path";
import { providerNames } from "../packages/server/src/providers/provider.js";
import { providerFactories } from "../packages/server/src/providers/provider-registry.js";
import { ensureToolInstalled } from "../packages/server/src/providers/tool-installer.js";

const toolsDirectory = process.argv[2] ?? path.join(homedir(), ".cache", "ciab", "tools");
let failed = 0;
for (const name of providerNames) {
  const install = providerFactories[name]?.().install;
  if (install == null) continue;
  const started = Date.now();
  try {
    const result = await ensureToolInstalled(install, toolsDirectory, {
      onProgress: (progress) => console.log(`  ${progress.message}`),
    });
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(`${name}: ${install.npmPackage}@${install.version} ${result.installed ? "installed" : "already installed"} (${seconds}s)`);
  } catch (error) {
    failed += 1;
    console.error(`${name}: ${(error as Error).message}`, (error as { context?: unknown }).context ?? "");
  }
}
process.exitCode = failed === 0 ? 0 : 1;
