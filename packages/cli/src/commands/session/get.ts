import type { Session } from "@ciab/protocol";
import type { CommandContext } from "../../context.js";
import { formatUSD } from "../../format/usd.js";
import { resolveSessionID } from "../../resolve/references.js";

/** `ciab session get ID`. */
export async function get(context: CommandContext, [id = ""]: string[]): Promise<void> {
  const ciab = await context.client();
  context.print(await ciab.sessions.get(await resolveSessionID(ciab, id)), formatSession);
}

export function formatSession(session: Session): string {
  const lines = [
    `${session.id}  ${session.provider}  ${session.state}${session.exit_code === null ? "" : ` (exit ${session.exit_code})`}${session.end_reason ? `, ended by ${session.end_reason}` : ""}`,
    `sandbox: ${session.sandbox_id ?? "-"}${session.owns_sandbox ? " (its own)" : ""}`,
    `tokens: ${session.usage.input_tokens} in / ${session.usage.output_tokens} out, ${formatUSD(session.usage.cost_usd)}`,
    `compute: ${formatUSD(session.cost_usd)}`,
  ];
  if (session.repo) lines.push(`repo: ${session.repo.url}${session.repo.ref ? `@${session.repo.ref}` : ""}`);
  if (session.persistence !== "ephemeral") lines.push(`persistence: ${session.persistence}${session.final_snapshot_id ? `, saved as ${session.final_snapshot_id}` : ""}`);
  if (session.failure) lines.push(`failure: ${session.failure.reason}: ${session.failure.message}`);
  return lines.join("\n");
}
