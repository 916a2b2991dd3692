import type { Duplex } from "node:stream";
import { CiabError } from "@ciab/protocol";

/**
 * Reads agentd's next answer line on a raw connection (a raw tunnel or raw write), never more than
 * `maxBytes` of it, and pauses the socket with what followed the line handed back. Fails as
 * `agent_unreachable` when no line comes in time (`timeoutMs`; none while a body is still being sent)
 * or the connection closes first.
 */
export function readAnswerLine(socket: Duplex, maxBytes: number, timeoutMs: number | undefined, what: string): Promise<{ line: string; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => finish(new CiabError("agent_unreachable", `agentd did not answer the ${what}`)), timeoutMs);
    const finish = (error: Error | undefined, value?: { line: string; rest: Buffer }) => {
      clearTimeout(timer);
      socket.off("data", onData).off("end", onClose).off("close", onClose);
      socket.pause();
      if (error) reject(error);
      else resolve(value!);
    };
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf(10);
      if (end !== -1 && end <= maxBytes) finish(undefined, { line: buffered.subarray(0, end).toString("utf8"), rest: buffered.subarray(end + 1) });
      else if (buffered.length > maxBytes) finish(new CiabError("agent_unreachable", `agentd answered the ${what} with no line`));
    };
    const onClose = () => finish(new CiabError("agent_unreachable", `agentd closed the ${what}`));
    // A WebSocket stream (the reverse channel) ends when agentd closes it but closes only once destroyed.
    socket.on("data", onData).once("end", onClose).once("close", onClose);
    socket.resume();
  });
}

/** `ERR <code> <message>` as the error it names; an unknown code is a broken channel. */
export function errorOfLine(line: string, fallback: string, isCode: (code: string) => boolean): CiabError {
  const [, code = "", ...words] = line.split(" ");
  return new CiabError(isCode(code) ? (code as never) : "agent_unreachable", words.join(" ").slice(0, 400) || fallback);
}
