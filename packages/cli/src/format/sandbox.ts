import type { Sandbox } from "@ciab/protocol";
import { formatAge } from "./age.js";
import { formatFields, formatTable } from "./table.js";
import { formatUSD } from "./usd.js";
import { formatLifetime } from "./lifetime.js";

/** What `sandbox create`, `get`, `pause` and `resume` print. */
export function formatSandboxSummary(sandbox: Sandbox): string {
  const fields: [string, string][] = [
    ["id", sandbox.id],
    ["name", sandbox.name],
    ["state", sandbox.state],
    ["runtime", sandbox.runtime],
    ["image", sandbox.image],
    ["cost", formatUSD(sandbox.cost_usd)],
  ];
  fields.push(...formatLifetime(sandbox));
  if (sandbox.persistence !== "ephemeral") fields.push(["persistence", sandbox.persistence]);
  if (sandbox.volume_id) fields.push(["volume", sandbox.volume_id]);
  if (sandbox.final_snapshot_id) fields.push(["saved as", sandbox.final_snapshot_id]);
  if (Object.keys(sandbox.tags).length > 0) fields.push(["tags", formatTags(sandbox.tags, Number.POSITIVE_INFINITY)]);
  if (sandbox.end_reason) fields.push(["ended by", sandbox.end_reason]);
  if (sandbox.failure) fields.push(["failure", `${sandbox.failure.message} (${sandbox.failure.reason})`]);
  if (sandbox.failure?.aws_code) fields.push(["aws code", sandbox.failure.aws_code]);
  return formatFields(fields);
}

/** What `sandbox list` prints. */
export function formatSandboxTable(sandboxes: readonly Sandbox[], now: number = Date.now()): string {
  if (sandboxes.length === 0) return "no sandboxes";
  return formatTable(
    ["ID", "NAME", "STATE", "RUNTIME", "IMAGE", "AGE", "COST", "TAGS"],
    sandboxes.map((sandbox) => [
      sandbox.id,
      sandbox.name,
      sandbox.state,
      sandbox.runtime,
      sandbox.image,
      formatAge(sandbox.created_at, now),
      formatUSD(sandbox.cost_usd),
      formatTags(sandbox.tags),
    ]),
  );
}

/** Widest tags cell of the table; `sandbox get` shows them whole. */
const tagsColumnWidth = 40;

/** `key=value` pairs, sorted by key, comma-separated, cut with an ellipsis past `width`. */
export function formatTags(tags: Readonly<Record<string, string>>, width = tagsColumnWidth): string {
  const text = Object.keys(tags)
    .sort()
    .map((key) => `${key}=${tags[key]}`)
    .join(",");
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
}

/** The progress line of `sandbox create`. */
export function formatProgress(sandbox: Sandbox): string {
  return sandbox.status_message ? `${sandbox.state}: ${sandbox.status_message}` : sandbox.state;
}
