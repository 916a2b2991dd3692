import type { CommandContext } from "../../context.js";
import { resolveOptionReferences } from "../../resolve/references.js";
import { formatArtifact } from "../../format/artifact.js";
import { UsageError } from "../../usage-error.js";

export interface PublishOptions {
  session?: string;
  sandbox?: string;
  mime?: string;
  description?: string;
}

/** `ciab artifact publish PATH (--session ID | --sandbox ID) [--mime M] [--description D]`. */
export async function publish(context: CommandContext, [path = ""]: string[], given: PublishOptions): Promise<void> {
  if ((given.session === undefined) === (given.sandbox === undefined)) throw new UsageError("give exactly one of --session and --sandbox");
  const ciab = await context.client();
  const options = await resolveOptionReferences(ciab, given);
  const artifact = await ciab.artifacts.publish({
    path,
    ...(options.session !== undefined && { session_id: options.session }),
    ...(options.sandbox !== undefined && { sandbox_id: options.sandbox }),
    ...(options.mime !== undefined && { mime: options.mime }),
    ...(options.description !== undefined && { description: options.description }),
  });
  context.print(artifact, formatArtifact);
}
