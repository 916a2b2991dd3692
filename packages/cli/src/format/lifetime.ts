import type { Sandbox } from "@ciab/protocol";
import { formatDuration } from "../parse/duration.js";

/** The lifetime lines of `sandbox get`: its timeout and what it does, and the deadline that applies now. */
export function formatLifetime(sandbox: Pick<Sandbox, "timeout_secs" | "on_timeout" | "expires_at" | "delete_after">): [string, string][] {
  const fields: [string, string][] = [["timeout", `${formatDuration(sandbox.timeout_secs)}, then ${sandbox.on_timeout}`]];
  if (sandbox.expires_at) fields.push(["expires", sandbox.expires_at]);
  if (sandbox.delete_after) fields.push(["deletes", sandbox.delete_after]);
  return fields;
}
