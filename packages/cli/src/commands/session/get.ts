import type { Session } from "@ciab/protocol";
import type { CommandContext } from "../../context.js";

/** `ciab session get ID`. */
export async function get(context: CommandContext, [id = ""]: string[]): Promise<void> {
  const ciab = await context.client();
  context.print(await ciab.sessions.get(id), formatSession);
}

export function formatSession(session: Session): string {
  const lines = [
    `${session.id}  ${session.provider}  ${session.state}${session.exit_code === null ? "" : ` (exit ${session.exit_code})`}`,
    `sandbox: ${session.sandbox_id ?? "-"}${session.owns_sandbox ? " (its own)" : ""}`,
    `tokens: ${session.usage.input_tokens} in / ${session.usage.output_tokens} out, $${session.usage.cost_usd.toFixed(4)}`,
  ];
  if (session.repo) lines.push(`repo: ${session.repo.url}${session.repo.ref ? `@${session.repo.ref}` : ""}`);
  if (session.failure) lines.push(`failure: ${session.failure.reason}: ${session.failure.message}`);
  return lines.join("\n");
}
