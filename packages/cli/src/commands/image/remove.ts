import type { CommandContext } from "../../context.js";

/** `ciab image delete IMAGE_ID`: deregisters the AMI and deletes its snapshots, or removes the Docker image. */
export async function remove(context: CommandContext, [id = ""]: string[]): Promise<void> {
  const ciab = await context.client();
  await ciab.images.delete(id);
  context.print({ deleted: id }, () => `deleted ${id}`);
}
