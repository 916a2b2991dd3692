import type { CommandContext } from "../../context.js";
import { resolveOptionReferences } from "../../resolve/references.js";
import { formatArtifactTable } from "../../format/artifact.js";

export interface ArtifactListOptions {
  session?: string;
  sandbox?: string;
  limit?: number;
  after?: string;
}

/** `ciab artifact list [--session ID] [--sandbox ID] [--limit N] [--after ID]`. */
export async function list(context: CommandContext, _args: string[], given: ArtifactListOptions): Promise<void> {
  const ciab = await context.client();
  const options = await resolveOptionReferences(ciab, given);
  const page = await ciab.artifacts.list({
    ...(options.session !== undefined && { sessionID: options.session }),
    ...(options.sandbox !== undefined && { sandboxID: options.sandbox }),
    ...(options.limit !== undefined && { limit: options.limit }),
    ...(options.after !== undefined && { after: options.after }),
  });
  context.print(page, ({ artifacts, next }) => formatArtifactTable(artifacts) + (next ? `\nmore: --after ${next}` : ""));
}
