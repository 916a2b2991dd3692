import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const buildScript = fileURLToPath(new URL("../../infra/agent-image/build.sh", import.meta.url));

/** Builds the agent image (infra/agent-image, cached by its inputs' hash) and answers its name. */
export function buildAgentImage(): string {
  return execFileSync("bash", [buildScript], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], timeout: 600_000 }).trim();
}
