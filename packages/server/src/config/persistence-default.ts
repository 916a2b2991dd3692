import type { Persistence } from "@ciab/protocol";
import type { Config } from "./config-schema.js";

/** A workspace's default persistence: its `[runtime.workspaces.<id>] persistence`, else `[runtime] persistence`. */
export function defaultPersistenceFor(runtime: Config["runtime"], workspaceID: string): Persistence {
  return runtime.workspaces[workspaceID]?.persistence ?? runtime.persistence;
}
