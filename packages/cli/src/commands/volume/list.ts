import type { CommandContext } from "../../context.js";
import { formatVolumeTable } from "../../format/volume.js";

/** `ciab volume list`. */
export async function list(context: CommandContext): Promise<void> {
  const ciab = await context.client();
  context.print({ volumes: await ciab.volumes.list() }, ({ volumes }) => formatVolumeTable(volumes));
}
