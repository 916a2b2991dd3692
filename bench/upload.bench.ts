// A 500 MB file streamed through the API (PUT /sandboxes/:id/files/upload: control plane, agent channel
// over HTTP/2, agentd writing into /workspace) into a local sandbox. Two baselines in the same run: the
// same bytes written straight into that sandbox's workspace dir on the host (the loop-mounted image every
// local sandbox gets: the floor for ours), and into the data dir beside it (the host's disk without the
// loop image), so a slow figure can be told apart from a slow disk. Target: ≥ 200 MB/s.
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { measure, percentile, report } from "./measure.js";
import { startBenchServer } from "./bench-server.js";
import { cpuMsOf, ownCpuMs } from "./process-cpu.js";

const bytes = 500 * 1000 * 1000;
const chunk = Buffer.alloc(1024 * 1024, 97);
const rounds = 3;

/** `bytes` bytes of the same chunk, made as they are read: the source costs no disk and no memory. */
function source(): Readable {
  let left = bytes;
  return new Readable({
    highWaterMark: chunk.length,
    read() {
      const size = Math.min(left, chunk.length);
      left -= size;
      this.push(size > 0 ? chunk.subarray(0, size) : null);
    },
  });
}

const bench = await startBenchServer();
try {
  const { body } = await bench.call("POST", "/sandboxes", { runtime: "local" });
  const id = body.id as string;
  const server = new URL(bench.server.url);
  const upload = async () => {
    const request = http.request({
      host: server.hostname,
      port: Number(server.port),
      method: "PUT",
      path: `/api/v1/sandboxes/${id}/files/upload?path=/workspace/upload.bin`,
      headers: { authorization: `Bearer ${bench.token}`, "content-type": "application/octet-stream", "content-length": bytes },
    });
    const answered = once(request, "response") as Promise<[http.IncomingMessage]>;
    await pipeline(source(), request);
    const [response] = await answered;
    let text = "";
    for await (const part of response) text += String(part);
    if (response.statusCode !== 200) throw new Error(`upload: ${response.statusCode} ${text}`);
    const size = (JSON.parse(text) as { size: number }).size;
    if (size !== bytes) throw new Error(`uploaded ${size} bytes`);
  };
  const workspace = path.join(bench.server.dataDirectory, "sandboxes", id, "workspace");
  const hostFile = path.join(bench.server.dataDirectory, "host-disk.bin");
  const direct = () => pipeline(source(), createWriteStream(path.join(workspace, "direct.bin")));
  const hostDisk = () => pipeline(source(), createWriteStream(hostFile));
  const agentdCpuMs = cpuMsOf("node", "agentd.mjs", id);
  await upload();
  // Interleaved, so drift in machine load lands on every side alike.
  const ours: number[] = [];
  const baseline: number[] = [];
  const host: number[] = [];
  let controlPlaneCpu = 0;
  let agentdCpu = 0;
  for (let round = 0; round < rounds; round += 1) {
    const cpuBefore = ownCpuMs();
    const agentdBefore = agentdCpuMs?.() ?? 0;
    ours.push(...(await measure(1, upload, 0)));
    controlPlaneCpu += ownCpuMs() - cpuBefore;
    agentdCpu += (agentdCpuMs?.() ?? 0) - agentdBefore;
    baseline.push(...(await measure(1, direct, 0)));
    host.push(...(await measure(1, hostDisk, 0)));
    await rm(hostFile, { force: true });
  }
  const mbPerSecond = (ms: number) => Math.round(bytes / 1000 / ms);
  report("upload", ours, baseline, {
    bytes,
    ours_mb_per_s: mbPerSecond(percentile(ours, 0.5)),
    baseline_mb_per_s: mbPerSecond(percentile(baseline, 0.5)),
    host_disk_mb_per_s: mbPerSecond(percentile(host, 0.5)),
    target_mb_per_s: 200,
    // Per upload; the control plane's figure includes the benchmark's own client, which runs in its process.
    control_plane_and_client_cpu_ms: Math.round(controlPlaneCpu / rounds),
    agentd_cpu_ms: agentdCpuMs ? Math.round(agentdCpu / rounds) : null,
    baseline_kind: "the same bytes written straight into the sandbox's workspace dir (its loop image) on the host",
    host_disk_kind: "the same bytes written into the data dir, outside the loop image",
  });
} finally {
  await bench.close();
}
