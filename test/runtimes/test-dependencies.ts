import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createSilentLogger } from "../../packages/server/src/logger.js";
import type { RuntimeDependencies } from "../../packages/server/src/runtimes/runtime.js";

const repository = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** The bundle the global setup builds. */
export const agentdBundlePath = path.join(repository, "packages/agentd/dist/agentd.mjs");

/** Dependencies for one test file: a fresh data dir (removed by `removeDataDirectory`), a silent logger. */
export function testDependencies(prefix: string): RuntimeDependencies & { removeDataDirectory: () => void } {
  const dataDirectory = mkdtempSync(path.join(os.tmpdir(), `ciab-${prefix}-`));
  const toolsDirectory = path.join(dataDirectory, "tools");
  mkdirSync(toolsDirectory);
  return {
    dataDirectory,
    installationID: `inst_test${path.basename(dataDirectory).slice(-6)}`,
    agentdBundlePath,
    nodeBinaryPath: process.execPath,
    toolsDirectory,
    logger: createSilentLogger(),
    removeDataDirectory: () => rmSync(dataDirectory, { recursive: true, force: true }),
  };
}
