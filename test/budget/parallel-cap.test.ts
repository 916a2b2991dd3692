import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, expect, test } from "vitest";
import { CiabError } from "@ciab/protocol";
import { createDataKey } from "../../packages/server/src/data-key.js";
import { createSilentLogger } from "../../packages/server/src/logger.js";
import type { Runtime } from "../../packages/server/src/runtimes/runtime.js";
import type { RuntimeRegistry } from "../../packages/server/src/runtimes/runtime-registry.js";
import type { AgentConnections } from "../../packages/server/src/services/agent-connections.js";
import { createBudgetService } from "../../packages/server/src/services/budget-service.js";
import { createSandboxService } from "../../packages/server/src/services/sandbox-service.js";
import { createSqliteStore } from "../../packages/server/src/store/sqlite/sqlite-store.js";
import { makeTempDirectory } from "../harness/temp-directory.js";

// $3.6 an hour commits $0.06 for a machine's first minute: a $0.25 cap admits 5 new machines (0, 0.06, ...,
// 0.24 spent before each), whatever the number asking at once.
const usdPerHour = 3.6;
const capUSD = 0.25;
const allowed = 5;
const directory = makeTempDirectory("ciab-parallel-cap-");
afterAll(() => directory.remove());

test("parallel creates of one workspace against its hourly cap: exactly the ones the cap allows get a sandbox", async () => {
  const store = createSqliteStore({ filename: path.join(directory.path, "one.db") });
  await store.migrate();
  await store.workspaces.create({ id: "ws_a", name: "a", createdAt: new Date().toISOString() });
  const provisioned: string[] = [];
  // Machines that stay provisioning: each one keeps counting against the cap.
  const runtime = {
    name: "ec2",
    defaultImage: "ami-1",
    capabilities: { pause: true, resourceLimits: false, hostNetwork: false, images: true, loaderEnvironment: true },
    provision: (spec: { sandboxID: string }, options: { signal: AbortSignal }) => {
      provisioned.push(spec.sandboxID);
      return new Promise((_, reject) => options.signal.addEventListener("abort", () => reject(options.signal.reason)));
    },
  } as unknown as Runtime;
  const runtimes: RuntimeRegistry = { defaultName: "ec2", get: () => runtime, all: () => [runtime], close: async () => undefined };
  const unreachable = () => {
    throw new CiabError("agent_unreachable", "no agent in this test");
  };
  const connections: AgentConnections = { get: unreachable, drop: () => undefined, connectPort: unreachable, closeAll: () => undefined };
  const sandboxes = createSandboxService({
    store,
    runtimes,
    connections,
    dataKey: createDataKey(randomBytes(32)),
    logger: createSilentLogger(),
    agentReadyTimeoutMs: 100,
    budget: createBudgetService({ store, maxHourlyUSD: capUSD }),
    pricing: { usdPerHour: () => usdPerHour, billsPaused: () => false },
  });
  const member = { userID: "usr_a", workspaceID: "ws_a", role: "member" as const, installationAdmin: false, tokenID: "tok_a" };
  const results = await Promise.allSettled(Array.from({ length: 12 }, () => sandboxes.create(member, { runtime: "ec2" }, { wait: false })));
  const refused = results.filter((result) => result.status === "rejected").map((result) => (result as PromiseRejectedResult).reason.code);
  expect(refused).toEqual(Array(12 - allowed).fill("cost_cap_reached"));
  expect((await store.sandboxes.list("ws_a")).length).toBe(allowed);
  expect(provisioned.length).toBe(allowed);
  for (const sandbox of await store.sandboxes.list("ws_a")) await sandboxes.delete(member, sandbox.id).catch(() => undefined);
  await store.close();
});

test("two control planes on one SQLite file admit no more than the cap allows between them", async () => {
  const filename = path.join(directory.path, "shared.db");
  const store = createSqliteStore({ filename });
  await store.migrate();
  await store.workspaces.create({ id: "ws_b", name: "b", createdAt: new Date().toISOString() });
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), "cap-admission.ts");
  const run = () =>
    promisify(execFile)(process.execPath, ["--import", "tsx", script, filename, "ws_b", "6", String(capUSD), String(usdPerHour)], { timeout: 60_000 });
  const answers = await Promise.all([run(), run()]);
  const admitted = answers.map((answer) => Number(answer.stdout.trim()));
  expect(admitted[0]! + admitted[1]!).toBe(allowed);
  expect((await store.sandboxes.list("ws_b")).length).toBe(allowed);
  await store.close();
});
