import type { CommandContext } from "../../context.js";
import { formatAuditTable } from "../../format/approvals-audit.js";

export interface AuditOptions {
  sandbox?: string;
  session?: string;
  actor?: string;
  tool?: string;
  since?: string;
  until?: string;
  cursor?: string;
  limit?: number;
}

/** `ciab audit [filters] [--json]`. */
export async function list(context: CommandContext, _args: string[], options: AuditOptions): Promise<void> {
  const ciab = await context.client();
  const page = await ciab.audit.list({
    ...(options.sandbox !== undefined && { sandboxID: options.sandbox }),
    ...(options.session !== undefined && { sessionID: options.session }),
    ...(options.actor !== undefined && { actor: options.actor }),
    ...(options.tool !== undefined && { tool: options.tool }),
    ...(options.since !== undefined && { since: options.since }),
    ...(options.until !== undefined && { until: options.until }),
    ...(options.cursor !== undefined && { cursor: options.cursor }),
    ...(options.limit !== undefined && { limit: options.limit }),
  });
  context.print(page, ({ entries, next }) => formatAuditTable(entries) + (next ? `\nmore: --cursor ${next}` : ""));
}
