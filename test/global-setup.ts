import { bundleAgentd } from "../packages/agentd/scripts/bundle.mjs";

/** Builds the agentd bundle once for the whole run; runtimes mount it into every machine. */
export default async function setup(): Promise<void> {
  await bundleAgentd();
}
