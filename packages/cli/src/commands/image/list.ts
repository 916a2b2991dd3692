import type { CommandContext } from "../../context.js";
import { formatImageTable } from "../../format/image.js";

/** `ciab image list [--region R] [--provider P]`. */
export async function list(context: CommandContext, _args: string[], options: { region?: string; provider?: string }): Promise<void> {
  const ciab = await context.client();
  const page = await ciab.images.list({
    ...(options.region !== undefined && { region: options.region }),
    ...(options.provider !== undefined && { provider: options.provider }),
  });
  context.print(page, ({ images }) => formatImageTable(images));
}
