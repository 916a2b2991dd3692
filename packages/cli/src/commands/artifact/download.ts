import { createWriteStream } from "node:fs";
import { rename, unlink } from "node:fs/promises";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import type { CommandContext } from "../../context.js";

/** `ciab artifact download ID [-o FILE]`: to FILE (default: the artifact's name), or `-o -` to stdout. */
export async function download(context: CommandContext, [id = ""]: string[], options: { output?: string }): Promise<void> {
  const ciab = await context.client();
  const { artifact, body } = await ciab.artifacts.download(id);
  const source = Readable.fromWeb(body as WebReadableStream<Uint8Array>);
  if (options.output === "-") {
    await pipeline(source, process.stdout);
    return;
  }
  const target = options.output ?? artifact.name;
  const temporary = `${target}.ciab-download`;
  try {
    await pipeline(source, createWriteStream(temporary, { flags: "wx" }));
    await rename(temporary, target);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  context.print({ id, path: target, size: artifact.size, sha256: artifact.sha256 }, (written) => `wrote ${written.path} (${written.size} bytes)`);
}
