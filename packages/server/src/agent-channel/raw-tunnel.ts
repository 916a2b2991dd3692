import type { Duplex } from "node:stream";
import { CiabError, isErrorCode, rawTunnelGreeting } from "@ciab/protocol";

/** agentd's answer line is short; a longer one is not agentd. */
const maximumAnswerBytes = 512;
const answerTimeoutMs = 10_000;

/**
 * A raw tunnel to a loopback port in the sandbox over a connection of its own (see rawTunnelGreeting):
 * no HTTP/2 framing, so bulk bytes move at socket speed. Refused like the channel itself when the agent
 * answers for another sandbox; `preview_unreachable` when nothing listens; anything else unexpected is
 * `agent_unreachable` so that the caller can fall back to CONNECT on the channel.
 */
export async function openRawTunnel(connect: () => Promise<Duplex>, sandboxID: string, port: number, signal?: AbortSignal): Promise<Duplex> {
  signal?.throwIfAborted();
  const socket = await connect();
  socket.on("error", () => undefined);
  const onAbort = () => socket.destroy();
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    socket.write(`${rawTunnelGreeting}${port}\n`);
    const { line, rest } = await readLine(socket);
    if (line.startsWith("ERR ")) {
      socket.destroy();
      const [, code = "", ...words] = line.split(" ");
      throw new CiabError(isErrorCode(code) ? code : "agent_unreachable", words.join(" ") || "agentd refused the tunnel");
    }
    if (line !== `OK ${sandboxID}`) {
      socket.destroy();
      throw new CiabError("agent_unreachable", `the agent socket of sandbox ${sandboxID} did not open a tunnel for it`);
    }
    if (rest.length > 0) socket.unshift(rest);
    return socket;
  } catch (error) {
    socket.destroy();
    if (signal?.aborted) throw signal.reason;
    throw error;
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
}

function readLine(socket: Duplex): Promise<{ line: string; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const timer = setTimeout(() => finish(new CiabError("agent_unreachable", "agentd did not answer the tunnel request")), answerTimeoutMs);
    const finish = (error: Error | undefined, value?: { line: string; rest: Buffer }) => {
      clearTimeout(timer);
      socket.off("data", onData).off("close", onClose);
      socket.pause();
      if (error) reject(error);
      else resolve(value!);
    };
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf(10);
      if (end !== -1) finish(undefined, { line: buffered.subarray(0, end).toString("latin1"), rest: buffered.subarray(end + 1) });
      else if (buffered.length > maximumAnswerBytes) finish(new CiabError("agent_unreachable", "agentd answered the tunnel request with no line"));
    };
    const onClose = () => finish(new CiabError("agent_unreachable", "agentd closed the tunnel request"));
    socket.on("data", onData).once("close", onClose);
  });
}
