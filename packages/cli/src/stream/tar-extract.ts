import { constants } from "node:fs";
import { lstat, mkdir, open, symlink, unlink } from "node:fs/promises";
import path from "node:path";

/** What an extraction wrote, and what it passed over (hard links, devices, fifos). */
export interface ExtractResult {
  files: number;
  directories: number;
  symlinks: number;
  skipped: string[];
  bytes: number;
}

const block = 512;
/** Longest GNU long name or pax header read into memory. */
const maxHeaderDataBytes = 64 * 1024;

/**
 * Unpacks a tar stream from a sandbox into `destination`, trusting nothing in it: member names that are
 * absolute or climb with `..` are refused, nothing is written through a symbolic link (every parent is
 * checked with lstat, files are opened with O_NOFOLLOW after any link in their place is removed), modes
 * keep only their permission bits (no setuid, whoever runs this) less the user's umask, as their own tar
 * would (no world-writable files from a sandbox), and hard links and special files are skipped. Links themselves are kept as links. Reads the stream once, in bounded pieces.
 */
export async function extractTar(source: AsyncIterable<Uint8Array>, destination: string): Promise<ExtractResult> {
  const reader = new ByteReader(source);
  const result: ExtractResult = { files: 0, directories: 0, symlinks: 0, skipped: [], bytes: 0 };
  const root = path.resolve(destination);
  await mkdir(root, { recursive: true });
  // Read once: process.umask() without an argument is the only portable way to learn it.
  const allowed = 0o777 & ~process.umask();
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const header = await reader.read(block);
    if (header === undefined || header.every((byte) => byte === 0)) return result;
    const size = octal(header.subarray(124, 136), "size");
    const type = String.fromCharCode(header[156] || 0x30);
    const padded = Math.ceil(size / block) * block;
    if (type === "L" || type === "K" || type === "x" || type === "g") {
      if (size > maxHeaderDataBytes) throw new Error(`a tar header record of ${size} bytes is too long`);
      const data = (await reader.readRequired(padded)).subarray(0, size);
      if (type === "L") longName = cString(data);
      if (type === "K") longLink = cString(data);
      if (type === "x") ({ path: longName = longName, linkpath: longLink = longLink } = paxRecords(data));
      continue;
    }
    const prefix = header.subarray(257, 262).toString("latin1") === "ustar" ? cString(header.subarray(345, 500)) : "";
    const name = longName ?? (prefix ? `${prefix}/${cString(header.subarray(0, 100))}` : cString(header.subarray(0, 100)));
    const linkName = longLink ?? cString(header.subarray(157, 257));
    longName = longLink = undefined;
    const mode = octal(header.subarray(100, 108), "mode") & allowed;
    const relative = safeRelative(name);
    if (relative === "") {
      await reader.skip(padded);
      continue;
    }
    const target = path.join(root, relative);
    await ensureParents(root, relative);
    if (type === "0" || type === "\0" || type === "7") {
      await removeLink(target);
      const file = await open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, mode);
      try {
        let left = size;
        while (left > 0) {
          const piece = await reader.readRequired(Math.min(left, 64 * 1024));
          await file.write(piece);
          left -= piece.length;
        }
        await file.chmod(mode);
      } finally {
        await file.close();
      }
      await reader.skip(padded - size);
      result.files += 1;
      result.bytes += size;
    } else if (type === "5") {
      await makeDirectory(target, mode | 0o700);
      result.directories += 1;
      await reader.skip(padded);
    } else if (type === "2") {
      await removeLink(target, true);
      await symlink(linkName, target);
      result.symlinks += 1;
      await reader.skip(padded);
    } else {
      result.skipped.push(relative);
      await reader.skip(padded);
    }
  }
}

/** The member's path relative to the destination; refuses absolute names and `..`. */
function safeRelative(name: string): string {
  if (name.startsWith("/") || name.includes("\0")) throw new Error(`the archive names an absolute path: ${JSON.stringify(name)}`);
  const parts = name.split("/").filter((part) => part !== "" && part !== ".");
  if (parts.includes("..")) throw new Error(`the archive climbs out of the destination: ${JSON.stringify(name)}`);
  return parts.join("/");
}

/** Makes every parent of `relative` a real directory under `root`, refusing one that is a link. */
async function ensureParents(root: string, relative: string): Promise<void> {
  const parts = relative.split("/").slice(0, -1);
  let current = root;
  for (const part of parts) {
    current = path.join(current, part);
    await makeDirectory(current, 0o755);
  }
}

async function makeDirectory(directory: string, mode: number): Promise<void> {
  const existing = await lstat(directory).catch(() => undefined);
  if (existing === undefined) await mkdir(directory, { mode });
  else if (!existing.isDirectory()) throw new Error(`${directory} is in the way of a directory of the archive (not one itself)`);
}

/** Removes a link (or, for `any`, a file) where an entry goes, so that nothing is written through it. */
async function removeLink(target: string, any = false): Promise<void> {
  const existing = await lstat(target).catch(() => undefined);
  if (existing === undefined) return;
  if (existing.isDirectory()) throw new Error(`${target} is a directory; the archive has a file there`);
  if (existing.isSymbolicLink() || any) await unlink(target);
}

function octal(field: Buffer, what: string): number {
  if ((field[0]! & 0x80) !== 0) throw new Error(`a tar ${what} in base-256 is not supported`);
  const text = cString(field).trim();
  if (!/^[0-7]*$/.test(text)) throw new Error(`a tar ${what} is not octal: ${JSON.stringify(text)}`);
  return text === "" ? 0 : Number.parseInt(text, 8);
}

function cString(field: Buffer): string {
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? field.length : end).toString("utf8");
}

/** `path` and `linkpath` of a pax header (`<length> <key>=<value>\n` records). */
function paxRecords(data: Buffer): { path?: string; linkpath?: string } {
  const records: { path?: string; linkpath?: string } = {};
  for (const line of data.toString("utf8").split("\n")) {
    const match = /^\d+ (path|linkpath)=(.*)$/s.exec(line);
    if (match) records[match[1] as "path" | "linkpath"] = match[2]!;
  }
  return records;
}

/** Exact-size reads over a stream of chunks. */
class ByteReader {
  readonly #iterator: AsyncIterator<Uint8Array>;
  #buffered: Buffer = Buffer.alloc(0);
  #ended = false;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.#iterator = source[Symbol.asyncIterator]();
  }

  /** `size` bytes (fewer only when the stream ends), or undefined at its end. */
  async read(size: number): Promise<Buffer | undefined> {
    while (this.#buffered.length < size && !this.#ended) {
      const next = await this.#iterator.next();
      if (next.done) this.#ended = true;
      else this.#buffered = this.#buffered.length === 0 ? Buffer.from(next.value) : Buffer.concat([this.#buffered, next.value]);
    }
    if (this.#buffered.length === 0) return undefined;
    const piece = this.#buffered.subarray(0, size);
    this.#buffered = this.#buffered.subarray(piece.length);
    return piece;
  }

  async readRequired(size: number): Promise<Buffer> {
    const piece = await this.read(size);
    if (piece === undefined || piece.length < size) throw new Error("the archive ends in the middle of an entry");
    return piece;
  }

  async skip(size: number): Promise<void> {
    for (let left = size; left > 0; ) left -= (await this.readRequired(Math.min(left, 64 * 1024))).length;
  }
}
