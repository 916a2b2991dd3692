// An event written by the agent in the sandbox to an SSE client. Target p50 ≤ 5 ms.
// The agent prints its wall-clock time; the reader subtracts it from the time the event arrives.
// Baseline: the same script run directly on the host, read through a pipe.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { Ciab } from "../packages/sdk/src/index.js";
import { report } from "./measure.js";
import { startBenchServer } from "./bench-server.js";

const lines = 300;
const script = `for i in $(seq 1 ${lines}); do date +%s%N; sleep 0.01; done`;
const nowNs = () => (performance.timeOrigin + performance.now()) * 1e6;
const latencyOf = (text: string) => (nowNs() - Number(text.trim())) / 1e6;

const bench = await startBenchServer();
try {
  const ciab = new Ciab({ url: bench.server.url, token: bench.token });
  const session = await ciab.sessions.create({ provider: "shell", runtime: "local", prompt: script });
  const ours: number[] = [];
  for await (const event of ciab.sessions.follow(session.id)) {
    if (event.type !== "shell.output" || event.data.stream !== "stdout") continue;
    ours.push(latencyOf(Buffer.from(String(event.data.data), "base64").toString()));
  }
  const baseline: number[] = [];
  const child = spawn("bash", ["-c", script], { stdio: ["ignore", "pipe", "inherit"] });
  for await (const line of createInterface({ input: child.stdout })) baseline.push(latencyOf(line));
  // The first lines include the sandbox's start; measure the steady state.
  report("events-latency", ours.slice(20), baseline.slice(20), { target_p50_ms: 5 });
} finally {
  await bench.close();
}
