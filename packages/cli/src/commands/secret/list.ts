import type { CommandContext } from "../../context.js";
import { formatTable } from "../../format/table.js";

/** `ciab secret list`: names and dates, never values. */
export async function list(context: CommandContext): Promise<void> {
  const ciab = await context.client();
  const secrets = await ciab.secrets.list();
  context.print({ secrets }, ({ secrets: rows }) =>
    rows.length === 0 ? "no secrets" : formatTable(["NAME", "UPDATED"], rows.map((secret) => [secret.name, secret.updated_at])),
  );
}
