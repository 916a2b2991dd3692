import { bundleAgentd } from "../packages/agentd/scripts/bundle.mjs";
import { prepareAMIImages } from "./harness/aws/global-setup.js";

/** Builds the agentd bundle once for the whole run; runtimes mount it into every machine. */
export default async function setup(): Promise<void> {
  const agentdBundlePath = await bundleAgentd();
  await prepareAMIImages(agentdBundlePath);
}
