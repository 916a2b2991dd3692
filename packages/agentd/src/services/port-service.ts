import { readFile } from "node:fs/promises";
import type { ListeningPort } from "../protocol.js";
import { parseProcNetTCP } from "./proc-net-tcp.js";

const sources = [
  { file: "/proc/net/tcp", family: "ipv4" },
  { file: "/proc/net/tcp6", family: "ipv6" },
] as const;

/** TCP ports listening in agentd's network namespace (the sandbox's, inside a jail or container). */
export class PortService {
  async list(): Promise<ListeningPort[]> {
    const seen = new Set<string>();
    const ports: ListeningPort[] = [];
    for (const source of sources) {
      const text = await readFile(source.file, "utf8").catch(() => ""); // no IPv6 in this kernel
      for (const port of parseProcNetTCP(text, source.family)) {
        const key = `${port.family}|${port.address}|${port.port}`;
        if (seen.has(key)) continue;
        seen.add(key);
        ports.push(port);
      }
    }
    return ports.sort((left, right) => left.port - right.port || left.address.localeCompare(right.address));
  }
}
