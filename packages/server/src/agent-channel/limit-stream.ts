import { Transform, type Readable } from "node:stream";
import { CiabError } from "@ciab/protocol";

/**
 * Passes on at most `size` bytes of `source`: an agentd that sends more than the length it announced is
 * cut off with `agent_unreachable`, so a download never relays more than it said. Destroying the result
 * destroys the source (the HTTP/2 stream is cancelled).
 */
export function limitStream(source: Readable, size: number): Readable {
  let seen = 0;
  const limited = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      if (seen > size) {
        callback(new CiabError("agent_unreachable", `agentd sent more than the ${size} bytes it announced`, { retryable: true }));
        return;
      }
      callback(null, chunk);
    },
  });
  source.on("error", (error) => limited.destroy(error));
  limited.once("close", () => {
    if (!source.destroyed) source.destroy();
  });
  return source.pipe(limited);
}
