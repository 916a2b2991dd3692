import { bundleAgentd } from "../packages/agentd/scripts/bundle.mjs";
import { buildCli } from "../packages/cli/scripts/build.mjs";
import { prepareAMIImages } from "./harness/aws/global-setup.js";

/**
 * Builds the agentd bundle once for the whole run (runtimes mount it into every machine), and the CLI, so
 * that tests spawning `ciab` run the built JavaScript as users do.
 */
export default async function setup(): Promise<void> {
  await buildCli();
  const agentdBundlePath = await bundleAgentd();
  await prepareAMIImages(agentdBundlePath);
}
