import type { Readable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import type { ExecFrame } from "@ciab/protocol";
import { CiabError } from "@ciab/protocol";
import { toChannelError } from "./agent-session.js";

const maximumFrameCharacters = 64 * 1024 * 1024;

/** Parses NDJSON ExecFrame lines as they arrive; a stream cut before its end surfaces as `agent_unreachable`. */
export async function* readFrames(stream: Readable, signal?: AbortSignal): AsyncGenerator<ExecFrame> {
  const decoder = new StringDecoder("utf8");
  let pending = "";
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      pending += decoder.write(chunk);
      // agentd writes frames of at most a few MiB; a longer unterminated line is not agentd talking.
      if (pending.length > maximumFrameCharacters) throw new CiabError("agent_unreachable", "agentd sent an oversized frame");
      let newline = pending.indexOf("\n");
      while (newline !== -1) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        if (line !== "") yield parseFrame(line);
        newline = pending.indexOf("\n");
      }
    }
  } catch (error) {
    throw toChannelError(error, signal);
  }
  pending += decoder.end();
  // agentd ends every frame with a newline: a rest without one is a stream cut inside a frame (agentd drops
  // a reader that falls far behind), which its readers resume, not a frame.
  if (pending.trim() !== "") throw new CiabError("agent_unreachable", "agentd's stream ended inside a frame");
}

function parseFrame(line: string): ExecFrame {
  try {
    return JSON.parse(line) as ExecFrame;
  } catch (error) {
    throw new CiabError("agent_unreachable", "agentd sent a frame that is not JSON", { cause: error });
  }
}
