import { imageLabels } from "./docker-cli.js";
import { ensureAgentAMIImage, plainAMIImage } from "./ami-images.js";

/**
 * Once per test run, after the agentd bundle is built: brings the pre-built agent "AMI" image up to date with
 * it. Skipped where the plain image is absent (no dockerd, or scripts/build-ami-image.sh not run), so unit
 * runs pay nothing; the instance player then says which script to run.
 */
export async function prepareAMIImages(agentdBundlePath: string): Promise<void> {
  if (!(await imageLabels(plainAMIImage))) return;
  await ensureAgentAMIImage({ agentdBundlePath, nodeBinaryPath: process.execPath });
}
