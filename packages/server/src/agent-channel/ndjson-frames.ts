import type { Readable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import type { ExecFrame } from "@ciab/protocol";
import { toChannelError } from "./agent-session.js";

/** Parses NDJSON ExecFrame lines as they arrive; a stream cut before its end surfaces as `agent_unreachable`. */
export async function* readFrames(stream: Readable, signal?: AbortSignal): AsyncGenerator<ExecFrame> {
  const decoder = new StringDecoder("utf8");
  let pending = "";
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      pending += decoder.write(chunk);
      let newline = pending.indexOf("\n");
      while (newline !== -1) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        if (line !== "") yield JSON.parse(line) as ExecFrame;
        newline = pending.indexOf("\n");
      }
    }
  } catch (error) {
    throw toChannelError(error, signal);
  }
  pending += decoder.end();
  if (pending.trim() !== "") yield JSON.parse(pending) as ExecFrame;
}
