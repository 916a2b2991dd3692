import { createHash } from "node:crypto";

/** Argument names whose values may be secrets or contents: the digest sees only their size and hash. */
const reducedKeys = new Set(["content", "stdin", "data", "body"]);
/** Argument names whose values are never hashed at all (a low-entropy secret's hash can be guessed). */
const namesOnlyKeys = new Set(["env"]);

function sha256(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

/** A value reduced to what an audit trail may hold: no contents, no secrets, no streams. */
function reduce(value: unknown, key: string | undefined, depth: number): unknown {
  if (depth > 8) return "[deep]";
  if (Buffer.isBuffer(value)) return { bytes: value.length, sha256: sha256(value) };
  if (key !== undefined && namesOnlyKeys.has(key) && value && typeof value === "object") return Object.keys(value).sort();
  if (key !== undefined && reducedKeys.has(key) && typeof value === "string") {
    return { bytes: Buffer.byteLength(value), sha256: sha256(value) };
  }
  if (value === null || typeof value !== "object") return typeof value === "bigint" ? String(value) : value;
  if (Array.isArray(value)) return value.slice(0, 10_000).map((item) => reduce(item, undefined, depth + 1));
  if (typeof (value as { pipe?: unknown }).pipe === "function" || value instanceof AbortSignal) return "[stream]";
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(value).sort()) {
    const item = (value as Record<string, unknown>)[name];
    if (item !== undefined && typeof item !== "function") out[name] = reduce(item, name, depth + 1);
  }
  return out;
}

/** Canonical JSON (sorted keys) of the reduced arguments. */
export function canonicalArguments(value: unknown): string {
  return JSON.stringify(reduce(value, undefined, 0));
}

/** sha256 of the canonical JSON of the arguments, with contents and secrets reduced to sizes and hashes. */
export function argumentDigest(value: unknown): string {
  return sha256(canonicalArguments(value));
}
