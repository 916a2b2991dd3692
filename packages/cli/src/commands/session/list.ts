import type { Session } from "@ciab/protocol";
import type { CommandContext } from "../../context.js";
import { formatTable } from "../../format/table.js";
import { formatUSD } from "../../format/usd.js";

export interface SessionListOptions {
  state?: Session["state"];
  limit?: number;
}

/** `ciab session list`. */
export async function list(context: CommandContext, _args: string[], options: SessionListOptions): Promise<void> {
  const ciab = await context.client();
  const sessions = await ciab.sessions.list({ ...(options.state && { state: options.state }), ...(options.limit && { limit: options.limit }) });
  context.print({ sessions }, ({ sessions: rows }) =>
    rows.length === 0
      ? "no sessions"
      : formatTable(
          ["ID", "PROVIDER", "STATE", "EXIT", "SANDBOX", "COMPUTE", "MODEL", "CREATED"],
          rows.map((session) => [
            session.id,
            session.provider,
            session.state,
            session.exit_code === null ? "" : String(session.exit_code),
            session.sandbox_id ?? "",
            formatUSD(session.cost_usd),
            formatUSD(session.usage.cost_usd),
            session.created_at,
          ]),
        ),
  );
}
