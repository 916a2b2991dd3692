import type { SessionPort } from "@ciab/protocol";
import type { CommandContext } from "../../context.js";
import { formatSessionPorts } from "../../format/ports.js";
import { resolveSessionID } from "../../resolve/references.js";

/** `ciab session ports ID`. */
export async function ports(context: CommandContext, [id = ""]: string[]): Promise<void> {
  const ciab = await context.client();
  const listed: SessionPort[] = await ciab.sessions.ports(await resolveSessionID(ciab, id));
  context.print({ ports: listed }, ({ ports: rows }) => formatSessionPorts(rows));
}
