import type { Volume } from "@ciab/protocol";
import { formatTable } from "./table.js";

/** Volumes as a table; an in-use volume names the sandbox that mounts it. */
export function formatVolumeTable(volumes: readonly Volume[]): string {
  if (volumes.length === 0) return "no volumes";
  return formatTable(
    ["ID", "RUNTIME", "USER", "SIZE", "STATE", "LAST USED"],
    volumes.map((volume) => [
      volume.id,
      volume.runtime,
      volume.user_id,
      volume.size_gib === null ? "-" : `${volume.size_gib} GiB`,
      volume.sandbox_id ? `in use by ${volume.sandbox_id}` : volume.state,
      volume.last_used_at ?? "never",
    ]),
  );
}
