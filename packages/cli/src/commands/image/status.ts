import type { CommandContext } from "../../context.js";
import { formatBuild } from "../../format/image.js";

/** `ciab image status BUILD_ID`. */
export async function status(context: CommandContext, [id = ""]: string[]): Promise<void> {
  const ciab = await context.client();
  context.print(await ciab.images.getBuild(id), formatBuild);
}
