import type { FileEntryBody } from "@ciab/protocol";

const fileTypes = { file: "FILE_TYPE_FILE", dir: "FILE_TYPE_DIRECTORY", symlink: "FILE_TYPE_SYMLINK", other: "FILE_TYPE_UNSPECIFIED" } as const;

/** `ls -l`'s permission string, as envd reports it (Go's `FileMode.String`: `L` marks a link). */
function permissions(entry: FileEntryBody): string {
  const kind = entry.type === "dir" ? "d" : entry.type === "symlink" ? "L" : "-";
  const bits = "rwxrwxrwx";
  let text = kind;
  for (let index = 0; index < 9; index += 1) text += entry.mode & (1 << (8 - index)) ? bits[index] : "-";
  return text;
}

/** Our file entry as envd's `filesystem.EntryInfo` in Connect's JSON (enum names, int64 as a string). */
export function entryInfo(entry: FileEntryBody) {
  return {
    name: entry.name,
    type: fileTypes[entry.type],
    path: entry.path,
    size: String(entry.size),
    mode: entry.mode,
    permissions: permissions(entry),
    owner: "",
    group: "",
    modifiedTime: entry.modified_at,
    ...(entry.symlink_target !== undefined && { symlinkTarget: entry.symlink_target }),
  };
}

/** What envd's HTTP `/files` upload answers per file. */
export function writtenInfo(entry: FileEntryBody) {
  return { name: entry.name, type: entry.type === "dir" ? "dir" : "file", path: entry.path };
}
