// Events per second from one session to 10 concurrent SSE readers, none lost. Target ≥ 20,000 events/s.
// Baseline: the same output read line by line straight from a local pipe.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { Ciab } from "../packages/sdk/src/index.js";
import { startBenchServer } from "./bench-server.js";

const count = 100_000;
const readers = 10;
const script = `seq 1 ${count}`;

async function runReaders(url: string, token: string, sessionID: string): Promise<string> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", new URL("./events-readers.ts", import.meta.url).pathname, url, token, sessionID, String(readers)],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  let output = "";
  for await (const chunk of child.stdout) output += String(chunk);
  return output;
}

const bench = await startBenchServer();
try {
  const ciab = new Ciab({ url: bench.server.url, token: bench.token });
  // Readers run in a process of their own, as real clients do, so their parsing does not slow the server.
  // The script first sleeps, so every reader is connected before the first event; the rate is taken from
  // the first output event any reader got to the last event the slowest reader got.
  const session = await ciab.sessions.create({ provider: "shell", runtime: "local", prompt: `sleep 2; ${script}` });
  const results = JSON.parse(await runReaders(bench.server.url, bench.token, session.id)) as {
    outputs: number;
    gaps: number;
    firstOutputAt: number;
    lastAt: number;
  }[];
  const seconds =
    (Math.max(...results.map((result) => result.lastAt)) - Math.min(...results.map((result) => result.firstOutputAt))) / 1000;
  const lost = results.filter((result) => result.outputs !== count || result.gaps > 0).length;

  const baselineStarted = performance.now();
  let baselineLines = 0;
  const child = spawn("bash", ["-c", script], { stdio: ["ignore", "pipe", "inherit"] });
  for await (const _ of createInterface({ input: child.stdout })) baselineLines += 1;
  const baselineSeconds = (performance.now() - baselineStarted) / 1000;

  const ours = Math.round(count / seconds);
  const baseline = Math.round(baselineLines / baselineSeconds);
  console.log(`events-throughput ours: ${ours} events/s to each of ${readers} readers (${count} events in ${seconds.toFixed(2)} s), readers missing events: ${lost}`);
  console.log(`events-throughput baseline: ${baseline} lines/s from a local pipe`);
  console.log(
    JSON.stringify({
      name: "events-throughput",
      ours_events_per_second: ours,
      baseline_lines_per_second: baseline,
      ratio: Math.round((ours / baseline) * 100) / 100,
      readers,
      readers_missing_events: lost,
      target_events_per_second: 20_000,
    }),
  );
} finally {
  await bench.close();
}
