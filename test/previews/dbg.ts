import http from "node:http";
import { startBenchServer } from "../../bench/bench-server.js";
const b = await startBenchServer();
try {
  const sbx = (await b.call("POST", "/sandboxes", { runtime: "local" })).body;
  await b.call("POST", `/sandboxes/${sbx.id}/exec`, { command: "head -c 104857600 /dev/zero > /workspace/big" });
  for (let i = 0; i < 4; i++) {
    const st = performance.now();
    const r = await fetch(`${b.server.url}/api/v1/sandboxes/${sbx.id}/files/download?path=/workspace/big`, { headers: { authorization: `Bearer ${b.token}` } });
    let n = 0; for await (const c of r.body as any) n += c.length;
    const ms = performance.now() - st;
    console.log("files download", n, ms.toFixed(0), "ms", (104.8576 * 1000 / ms).toFixed(0), "MB/s");
  }
} finally { await b.close(); }
