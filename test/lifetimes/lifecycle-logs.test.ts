import { PassThrough } from "node:stream";
import { afterAll, expect, test } from "vitest";
import { startServer, type RunningServer } from "../../packages/server/src/index.js";
import { createLogger } from "../../packages/server/src/logger.js";
import { Ciab } from "../../packages/sdk/src/index.js";
import { makeTempDirectory } from "../harness/temp-directory.js";
import { readFileSync } from "node:fs";
import path from "node:path";

const data = makeTempDirectory("ciab-logs-");
let server: RunningServer | undefined;
afterAll(async () => {
  await server?.close();
  data.remove();
});

test("sandbox and session lifecycles are logged at info with their ids", async () => {
  const lines: Record<string, unknown>[] = [];
  const stream = new PassThrough();
  stream.on("data", (chunk: Buffer) => {
    for (const line of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  server = await startServer({
    port: 0,
    dataDirectory: data.path,
    env: { CIAB_SERVER_RECONCILE_INTERVAL_SECONDS: "0" },
    logger: createLogger("info", stream),
  });
  const ciab = new Ciab({ url: server.url, token: readFileSync(path.join(data.path, "admin-token"), "utf8").trim() });
  const sandbox = await ciab.sandboxes.create({ runtime: "local" });
  await sandbox.delete();
  const session = await ciab.sessions.create({ provider: "shell", runtime: "local", prompt: "true" });
  for await (const _ of ciab.sessions.follow(session.id)) {
    // to the end
  }
  const deadline = Date.now() + 10_000;
  const find = (msg: string, key: string, id: string) => lines.find((line) => line.msg === msg && line[key] === id);
  while (!find("session ended", "sessionID", session.id) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  for (const msg of ["sandbox created", "sandbox ready", "sandbox deleted"]) expect(find(msg, "sandboxID", sandbox.id), msg).toMatchObject({ level: 30 });
  expect(find("session started", "sessionID", session.id)).toMatchObject({ level: 30, provider: "shell" });
  expect(find("session ended", "sessionID", session.id)).toMatchObject({ level: 30, state: "completed", exitCode: 0 });
});
