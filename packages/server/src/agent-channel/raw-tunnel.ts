import type { Duplex } from "node:stream";
import { CiabError, isErrorCode, rawTunnelGreeting } from "@ciab/protocol";
import { errorOfLine, readAnswerLine } from "./answer-line.js";

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
    // The sandbox goes along so that another sandbox's agent (a swapped socket link) connects to nothing.
    socket.write(`${rawTunnelGreeting}${port} ${sandboxID}\n`);
    const { line, rest } = await readAnswerLine(socket, maximumAnswerBytes, answerTimeoutMs, "tunnel request");
    if (line.startsWith("ERR ")) {
      socket.destroy();
      // An agentd that reads only the older greeting (no sandbox) refuses it: CONNECT on the channel serves.
      if (line.startsWith("ERR invalid_request ")) throw new CiabError("agent_unreachable", "agentd does not take this raw tunnel greeting");
      throw errorOfLine(line, "agentd refused the tunnel", isErrorCode);
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
