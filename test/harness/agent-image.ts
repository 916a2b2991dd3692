import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";

const buildScript = fileURLToPath(new URL("../../infra/agent-image/build.sh", import.meta.url));

/**
 * Builds the agent image (infra/agent-image, cached by its inputs' hash) and answers its name. Asynchronous:
 * a first build takes minutes, and a test worker blocked that long loses its link to vitest.
 */
export async function buildAgentImage(): Promise<string> {
  const { stdout } = await promisify(execFile)("bash", [buildScript], { encoding: "utf8", timeout: 600_000, maxBuffer: 64 * 1024 * 1024 });
  return stdout.trim();
}
