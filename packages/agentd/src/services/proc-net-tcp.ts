import type { ListeningPort } from "../protocol.js";

const listenState = "0A";

/**
 * Parses /proc/net/tcp or /proc/net/tcp6 and returns the sockets in LISTEN state. Addresses are hex of
 * the raw in-kernel bytes printed as 32-bit words in host (little-endian) order, so each word's bytes are
 * reversed: `0100007F:1F90` is 127.0.0.1:8080.
 */
export function parseProcNetTCP(text: string, family: ListeningPort["family"]): ListeningPort[] {
  const ports: ListeningPort[] = [];
  const lines = text.split("\n");
  for (let index = 1; index < lines.length; index += 1) {
    const fields = lines[index]!.trim().split(/\s+/);
    if (fields.length < 4 || fields[3] !== listenState) continue;
    const [addressHex, portHex] = fields[1]!.split(":");
    if (!addressHex || !portHex) continue;
    const address = family === "ipv4" ? decodeIPv4(addressHex) : decodeIPv6(addressHex);
    if (address === undefined) continue;
    ports.push({ port: Number.parseInt(portHex, 16), address, family });
  }
  return ports;
}

function wordBytes(hex: string): number[] {
  const bytes: number[] = [];
  for (let offset = 0; offset < hex.length; offset += 8) {
    const word = hex.slice(offset, offset + 8);
    for (let byte = 3; byte >= 0; byte -= 1) bytes.push(Number.parseInt(word.slice(byte * 2, byte * 2 + 2), 16));
  }
  return bytes;
}

export function decodeIPv4(hex: string): string | undefined {
  if (!/^[0-9A-Fa-f]{8}$/.test(hex)) return undefined;
  return wordBytes(hex).join(".");
}

export function decodeIPv6(hex: string): string | undefined {
  if (!/^[0-9A-Fa-f]{32}$/.test(hex)) return undefined;
  const bytes = wordBytes(hex);
  const groups: string[] = [];
  for (let index = 0; index < 16; index += 2) groups.push(((bytes[index]! << 8) | bytes[index + 1]!).toString(16));
  return compressIPv6(groups);
}

/** RFC 5952 text form: the longest run (of two or more) of zero groups becomes `::`. */
function compressIPv6(groups: string[]): string {
  let bestStart = -1;
  let bestLength = 0;
  for (let start = 0; start < groups.length; ) {
    if (groups[start] !== "0") {
      start += 1;
      continue;
    }
    let end = start;
    while (end < groups.length && groups[end] === "0") end += 1;
    if (end - start > bestLength && end - start >= 2) {
      bestStart = start;
      bestLength = end - start;
    }
    start = end;
  }
  if (bestStart === -1) return groups.join(":");
  const head = groups.slice(0, bestStart).join(":");
  const tail = groups.slice(bestStart + bestLength).join(":");
  return `${head}::${tail}`;
}
