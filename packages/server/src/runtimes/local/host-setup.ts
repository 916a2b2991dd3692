import type { LocalRuntimeConfig } from "../../config/config-schema.js";
import type { Logger } from "../../logger.js";
import { inspectHostLayout, type HostLayout } from "./bwrap-arguments.js";
import { detectJailCgroups, type JailCgroups } from "./jail-cgroups.js";

/** What the runtime learns about this host once, at its first provision or listing. */
export interface HostSetup {
  layout: HostLayout;
  /** Where jails' cgroups go; undefined when no hierarchy is writable (limits off, warned once). */
  cgroups: JailCgroups | undefined;
  /** Root can give each jail a host uid of its own and a loop-mounted workspace. */
  isRoot: boolean;
}

/** Inspects the host, and warns of each confinement this host cannot give. */
export async function detectHostSetup(config: LocalRuntimeConfig, installationID: string, logger: Logger): Promise<HostSetup> {
  const isRoot = process.getuid?.() === 0;
  const leaf = `${installationID}-${config.isolation}`;
  const [layout, cgroups] = await Promise.all([inspectHostLayout(), detectJailCgroups(leaf)]);
  if (cgroups === undefined) logger.warn("no writable cgroup hierarchy: sandboxes run without memory, pids and cpu limits");
  if (!isRoot && config.isolation === "bwrap") {
    logger.warn("the server is not root: jails run as its own uid, and /workspace has no size quota");
  }
  return { layout, cgroups, isRoot };
}
