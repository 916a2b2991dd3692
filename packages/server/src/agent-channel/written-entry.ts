import { CiabError, type FileEntry } from "@ciab/protocol";

/**
 * agentd's answer to a file write, taken only when it is the entry of a regular file of the size that was
 * sent (when that is known): whatever listens on a sandbox's socket may claim a write it never made.
 */
export function writtenEntry(value: unknown, expectedSize: number | undefined): FileEntry {
  const entry = value as Partial<FileEntry> | null;
  const wellFormed =
    typeof entry === "object" &&
    entry !== null &&
    typeof entry.name === "string" &&
    typeof entry.path === "string" &&
    entry.type === "file" &&
    Number.isSafeInteger(entry.size) &&
    entry.size! >= 0 &&
    Number.isInteger(entry.mode) &&
    entry.mode! >= 0 &&
    entry.mode! <= 0o7777 &&
    typeof entry.modifiedAt === "string";
  if (!wellFormed) throw new CiabError("agent_unreachable", "agentd answered a file write with no file entry");
  if (expectedSize !== undefined && entry.size !== expectedSize) {
    throw new CiabError("agent_unreachable", `agentd says it wrote ${entry.size} bytes of ${expectedSize}`);
  }
  return { name: entry.name!, path: entry.path!, type: "file", size: entry.size!, mode: entry.mode!, modifiedAt: entry.modifiedAt! };
}
