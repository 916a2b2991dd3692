import type { CommandContext } from "../../context.js";
import { formatArtifact } from "../../format/artifact.js";

/** `ciab artifact get ID`: the artifact with a fresh download URL. */
export async function get(context: CommandContext, [id = ""]: string[]): Promise<void> {
  const ciab = await context.client();
  context.print(await ciab.artifacts.get(id), formatArtifact);
}
