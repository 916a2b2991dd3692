import type { Duplex, Readable } from "node:stream";
import { CiabError, isErrorCode, rawWriteGreeting, type FileEntry } from "@ciab/protocol";
import { errorOfLine, readAnswerLine } from "./answer-line.js";
import { writtenEntry } from "./written-entry.js";

/** A body whose size is known before it is sent (an upload's content-length). */
export interface SizedBody {
  stream: Readable;
  length: number;
}

export function isSizedBody(body: unknown): body is SizedBody {
  return typeof body === "object" && body !== null && "stream" in body && "length" in body;
}

const readyLineBytes = 512;
const readyTimeoutMs = 10_000;
/** A file entry is a few hundred bytes; a longer answer is not agentd. */
const entryLineBytes = 64 * 1024;
/** After the last byte agentd renames the file into place and stats it. */
const entryTimeoutMs = 60_000;

/**
 * The largest write on the connection: a transport may carry each write as one message (the reverse
 * channel's WebSocket takes at most 1 MiB per message).
 */
const pieceBytes = 256 * 1024;

/** The raw write was refused before any of the body was read: the channel's PUT can still send it. */
export class RawWriteUnavailable extends Error {}

/**
 * Writes a file over a connection of its own (see rawWriteGreeting): the body's bytes go to agentd as
 * they are, with no HTTP/2 frames or windows between. Nothing is read from the body until agentd has said
 * which sandbox it serves (another sandbox's agent gets no byte of it). Rejects with RawWriteUnavailable
 * when agentd does not take raw writes (an older agentd, a transport that failed), the body untouched.
 */
export async function writeRaw(connect: () => Promise<Duplex>, sandboxID: string | undefined, path: string, mode: number | undefined, body: SizedBody, signal?: AbortSignal): Promise<FileEntry> {
  signal?.throwIfAborted();
  let socket: Duplex;
  try {
    socket = await connect();
  } catch (error) {
    throw new RawWriteUnavailable("could not connect", { cause: error });
  }
  socket.on("error", () => undefined);
  let entryTimer: NodeJS.Timeout | undefined;
  // The socket stays open after the body: agentd's answer comes back on it.
  const send = (chunk: Buffer): void => {
    let flowing = true;
    for (let offset = 0; offset < chunk.length; offset += pieceBytes) flowing = socket.write(chunk.subarray(offset, offset + pieceBytes)) && flowing;
    if (!flowing) {
      body.stream.pause();
      socket.once("drain", () => body.stream.resume());
    }
  };
  let sentAll = false;
  const startEntryTimer = (): void => {
    sentAll = true;
    entryTimer = setTimeout(() => socket.destroy(), entryTimeoutMs);
  };
  const onAbort = () => socket.destroy();
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    // The sandbox goes along so that another sandbox's agent (a swapped socket link) acts on none of it.
    socket.write(`${rawWriteGreeting}${body.length} ${mode === undefined ? "-" : mode.toString(8)} ${encodeURIComponent(path)} ${sandboxID ?? "-"}\n`);
    const ready = await readAnswerLine(socket, readyLineBytes, readyTimeoutMs, "raw write").catch((error: unknown) => {
      throw new RawWriteUnavailable("no answer", { cause: error });
    });
    // An agentd that reads only the older greeting (no sandbox) refuses it: the channel's PUT still serves.
    if (ready.line.startsWith("ERR invalid_request ")) throw new RawWriteUnavailable(`agentd refused the greeting: ${ready.line.slice(0, 200)}`);
    if (ready.line.startsWith("ERR ")) throw errorOfLine(ready.line, "agentd refused the write", isErrorCode);
    if (ready.line !== `READY ${sandboxID ?? "-"}`) {
      // Not an agentd that takes raw writes, or not this sandbox's: the channel's own check decides.
      throw new RawWriteUnavailable(`the agent socket answered a raw write with ${JSON.stringify(ready.line.slice(0, 64))}`);
    }
    // agentd may have failed the write at once (a path outside the workspace): its answer came along.
    if (ready.rest.length > 0) socket.unshift(ready.rest);
    const answer = readAnswerLine(socket, entryLineBytes, undefined, "raw write");
    const failed = new Promise<never>((_, reject) => {
      body.stream.once("error", (error) => reject(error));
      body.stream.once("aborted", () => reject(new CiabError("invalid_request", "the upload was cut off")));
    });
    body.stream.once("end", startEntryTimer);
    body.stream.on("data", send);
    const { line } = await Promise.race([answer, failed]);
    if (line.startsWith("ERR ")) throw errorOfLine(line, "agentd failed the write", isErrorCode);
    if (!line.startsWith("OK ")) throw new CiabError("agent_unreachable", "agentd answered a raw write with no entry");
    // A write is done only once all of the body went out: an earlier OK is a claim, not a file.
    if (!sentAll) throw new CiabError("agent_unreachable", "agentd answered a raw write before it had the whole body");
    let entry: unknown;
    try {
      entry = JSON.parse(line.slice(3));
    } catch (error) {
      throw new CiabError("agent_unreachable", "agentd answered a raw write with invalid JSON", { cause: error });
    }
    return writtenEntry(entry, body.length);
  } catch (error) {
    if (signal?.aborted && !(error instanceof RawWriteUnavailable)) throw signal.reason;
    throw error;
  } finally {
    clearTimeout(entryTimer);
    signal?.removeEventListener("abort", onAbort);
    body.stream.off("data", send).off("end", startEntryTimer);
    socket.destroy();
  }
}
