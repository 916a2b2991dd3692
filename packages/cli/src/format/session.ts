import type { Session } from "@ciab/protocol";
import { formatAge } from "./age.js";
import { formatTable } from "./table.js";
import { formatUSD } from "./usd.js";

/** What `session list` prints, newest first as the server answers. */
export function formatSessionTable(sessions: readonly Session[], now: number = Date.now()): string {
  if (sessions.length === 0) return "no sessions";
  return formatTable(
    ["ID", "PROVIDER", "STATE", "EXIT", "SANDBOX", "COMPUTE", "MODEL", "AGE"],
    sessions.map((session) => [
      session.id,
      session.provider,
      session.state,
      session.exit_code === null ? "" : String(session.exit_code),
      session.sandbox_id ?? "",
      formatUSD(session.cost_usd),
      formatUSD(session.usage.cost_usd),
      formatAge(session.created_at, now),
    ]),
  );
}
