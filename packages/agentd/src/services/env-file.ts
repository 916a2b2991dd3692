import { readFileSync, statSync } from "node:fs";

const maximumBytes = 1024 * 1024;

/** The sandbox env written at boot (`{ "env": { NAME: value } }`); throws on anything else. */
export function readEnvFile(path: string): Record<string, string> {
  if (statSync(path).size > maximumBytes) throw new Error(`over ${maximumBytes} bytes`);
  const parsed = JSON.parse(readFileSync(path, "utf8")) as { env?: unknown };
  const env = parsed?.env;
  if (typeof env !== "object" || env === null || Array.isArray(env)) throw new Error("no env object");
  const entries = Object.entries(env);
  for (const [name, value] of entries) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || typeof value !== "string" || value.includes("\0")) {
      throw new Error(`${JSON.stringify(name).slice(0, 80)} is not an environment variable`);
    }
  }
  return Object.fromEntries(entries) as Record<string, string>;
}
