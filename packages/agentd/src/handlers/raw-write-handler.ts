import { PassThrough, type Duplex, type Readable } from "node:stream";
import { CiabError, rawWriteGreeting, rawWriteGreetingMaxBytes } from "../protocol.js";
import type { FileService } from "../services/file-service.js";

const greetingLine = /^(\d{1,16}) (-|[0-7]{1,4}) (\S+)(?: (\S{1,128}))?$/;

/**
 * Serves a raw write (see rawWriteGreeting): the greeting may arrive over several reads and is bounded;
 * the file is written through the same FileService as PUT filesContent (confined path, temp file and
 * rename), from exactly `length` bytes of the connection. Fewer (the control plane left) or more fails the
 * write and leaves the file as it was.
 */
export function serveRawWrite(socket: Duplex, first: Buffer, files: FileService, sandboxID: string | undefined): void {
  let buffered = first;
  const onData = (chunk: Buffer): void => {
    buffered = Buffer.concat([buffered, chunk]);
    take();
  };
  const take = (): void => {
    const end = buffered.indexOf(10);
    if (end === -1) {
      if (buffered.length <= rawWriteGreetingMaxBytes) {
        socket.resume();
        return;
      }
      socket.off("data", onData);
      answerError(socket, new CiabError("invalid_request", "a raw write greeting is one line"));
      return;
    }
    socket.off("data", onData);
    socket.pause();
    const rest = buffered.subarray(end + 1);
    void write(socket, buffered.subarray(rawWriteGreeting.length, end).toString("utf8"), rest, files, sandboxID);
  };
  socket.on("data", onData);
  take();
}

async function write(socket: Duplex, greeting: string, rest: Buffer, files: FileService, sandboxID: string | undefined): Promise<void> {
  const match = greetingLine.exec(greeting);
  const length = Number(match?.[1]);
  let path: string | undefined;
  try {
    path = match ? decodeURIComponent(match[3]!) : undefined;
  } catch {
    path = undefined;
  }
  if (!match || path === undefined || !Number.isSafeInteger(length)) {
    answerError(socket, new CiabError("invalid_request", "a raw write starts with CIAB-WRITE <length> <mode|-> <path> [<sandboxID>] and a newline"));
    return;
  }
  const mode = match[2] === "-" ? undefined : Number.parseInt(match[2]!, 8);
  // A write meant for another sandbox (a swapped socket link) touches nothing here: the answer says whose
  // agent this is, and the control plane goes no further.
  if (match[4] !== undefined && match[4] !== (sandboxID ?? "-")) {
    socket.end(`READY ${sandboxID ?? "-"}\n`);
    return;
  }
  socket.write(`READY ${sandboxID ?? "-"}\n`);
  if (rest.length > 0) socket.unshift(rest);
  try {
    const entry = await files.write(path, exactly(socket, length), mode);
    socket.end(`OK ${JSON.stringify(entry)}\n`);
  } catch (error) {
    answerError(socket, error);
  }
}

/** The next `length` bytes of `socket` as a stream of their own; it fails if the socket ends first or sends more. */
function exactly(socket: Duplex, length: number): Readable {
  const body = new PassThrough({ highWaterMark: 1024 * 1024 });
  // A write that failed before reading its body leaves no reader; the failure is answered already.
  body.on("error", () => undefined);
  let left = length;
  const fail = (message: string): void => {
    body.destroy(new CiabError("invalid_request", message));
    cleanUp();
  };
  const onData = (chunk: Buffer): void => {
    if (chunk.length > left) {
      fail(`the raw write sent more than its ${length} bytes`);
      return;
    }
    left -= chunk.length;
    const more = body.write(chunk);
    if (left === 0) {
      cleanUp();
      body.end();
    } else if (!more) socket.pause();
  };
  const onEnd = (): void => fail(`the raw write ended ${left} bytes short of ${length}`);
  const onDrain = (): void => void socket.resume();
  const cleanUp = (): void => {
    socket.off("data", onData).off("end", onEnd).off("close", onEnd);
    body.off("drain", onDrain);
    socket.pause();
  };
  socket.on("data", onData).once("end", onEnd).once("close", onEnd);
  body.on("drain", onDrain);
  if (length === 0) {
    cleanUp();
    body.end();
  } else socket.resume();
  return body;
}

function answerError(socket: Duplex, error: unknown): void {
  const ciabError = error instanceof CiabError ? error : new CiabError("internal", error instanceof Error ? error.message : String(error));
  socket.end(`ERR ${ciabError.code} ${ciabError.message.replace(/[\r\n]+/g, " ").slice(0, 400)}\n`);
}
