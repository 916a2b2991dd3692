import { spawn } from "node:child_process";
import { once } from "node:events";
import path from "node:path";
import { createInterface } from "node:readline";
import type { Endpoint } from "../preview-fixture.js";

export interface Relay {
  endpoint: Endpoint;
  stop(): void;
}

const programs = {
  "node-pipe": [process.execPath, "node-pipe-relay.mjs"],
  splice: ["python3", "splice-relay.py"],
} as const;

/** Starts a reference relay to 127.0.0.1:<target> in a process of its own; rejects when it cannot start. */
export async function startRelay(kind: keyof typeof programs, target: number): Promise<Relay> {
  const [program, script] = programs[kind];
  const child = spawn(program, [path.join(import.meta.dirname, script), String(target)], { stdio: ["ignore", "pipe", "inherit"] });
  const failed = once(child, "error").then(([error]) => Promise.reject(error as Error));
  const lines = createInterface({ input: child.stdout });
  const [line] = (await Promise.race([once(lines, "line"), failed])) as [string];
  const port = Number(line);
  if (!Number.isInteger(port) || port <= 0) {
    child.kill();
    throw new Error(`${kind} relay printed ${line}`);
  }
  return { endpoint: { host: "127.0.0.1", port, prefix: "", headers: {} }, stop: () => child.kill() };
}
