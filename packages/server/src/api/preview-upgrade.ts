import { STATUS_CODES, type IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { CiabError } from "@ciab/protocol";

/** Writes an HTTP/1.1 answer head onto a socket taken over by an upgrade. */
export function writeUpgradeResponse(socket: Duplex, answer: IncomingMessage, rawHeaders: string[]): void {
  const status = answer.statusCode ?? 502;
  const lines = [`HTTP/1.1 ${status} ${sanitize(answer.statusMessage || STATUS_CODES[status] || "")}`];
  for (let index = 0; index + 1 < rawHeaders.length; index += 2) lines.push(`${rawHeaders[index]}: ${rawHeaders[index + 1]}`);
  if (status !== 101) lines.push("connection: close");
  socket.write(lines.join("\r\n") + "\r\n\r\n");
}

/** A typed error answer on a socket whose upgrade we refuse, then the socket closes. */
export function writeUpgradeError(socket: Duplex, error: CiabError): void {
  if (socket.destroyed) return;
  const body = JSON.stringify(error.toBody());
  socket.end(
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? "Error"}\r\n` +
      `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

/** A reason phrase from the sandbox must not smuggle header lines in. */
function sanitize(text: string): string {
  return text.replace(/[^\t\x20-\x7e]/g, "");
}
