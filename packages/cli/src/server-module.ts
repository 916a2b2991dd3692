import { UsageError } from "./usage-error.js";

const tsxRegistered = Symbol.for("ciab.tsx-registered");

/**
 * Makes `@ciab/server` importable for `ciab server`. In a checkout it is TypeScript, run under tsx; the
 * packed CLI is a client and carries no server.
 */
export async function prepareServerImport(): Promise<void> {
  let resolved: string;
  try {
    resolved = import.meta.resolve("@ciab/server");
  } catch {
    throw new UsageError("this ciab is the client only: run the server from a checkout (./scripts/install.sh && npx ciab server)");
  }
  const global = globalThis as { [tsxRegistered]?: boolean };
  if (!resolved.endsWith(".ts") || global[tsxRegistered]) return;
  (await import("tsx/esm/api")).register();
  global[tsxRegistered] = true;
}
