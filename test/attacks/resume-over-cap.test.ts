import { randomBytes } from "node:crypto";
import { expect, test } from "vitest";
import { CiabError } from "@ciab/protocol";
import { createDataKey } from "../../packages/server/src/data-key.js";
import { createSilentLogger } from "../../packages/server/src/logger.js";
import type { Runtime } from "../../packages/server/src/runtimes/runtime.js";
import type { RuntimeRegistry } from "../../packages/server/src/runtimes/runtime-registry.js";
import type { AgentConnections } from "../../packages/server/src/services/agent-connections.js";
import { createBudgetService } from "../../packages/server/src/services/budget-service.js";
import { createSandboxService } from "../../packages/server/src/services/sandbox-service.js";
import { createSqliteStore } from "../../packages/server/src/store/sqlite/sqlite-store.js";
import type { SandboxRecord } from "../../packages/server/src/store/records.js";

function record(overrides: Partial<SandboxRecord>): SandboxRecord {
  const now = new Date().toISOString();
  return {
    id: "sbx_x",
    workspaceID: "ws_a",
    name: "s",
    state: "ready",
    runtime: "ec2",
    image: "ami-1",
    network: "none",
    tags: {},
    sealedEnv: "",
    envKeys: [],
    resources: {},
    machine: { machineID: "i-1", sandboxID: "sbx_x", details: {} },
    failureReason: null,
    failureMessage: null,
    statusMessage: null,
    createdAt: now,
    updatedAt: now,
    readyAt: now,
    terminatedAt: null,
    userID: "usr_a",
    usdPerHour: 0,
    billsPaused: false,
    costUSD: 0,
    meteredSince: null,
    endReason: null,
    ...overrides,
  };
}

test("a stopped ec2 sandbox, which costs nothing while paused, is not resumed past the workspace's hourly cap", async () => {
  const store = createSqliteStore({ filename: ":memory:" });
  await store.migrate();
  await store.workspaces.create({ id: "ws_a", name: "a", createdAt: new Date().toISOString() });
  // The workspace burns $3600 an hour on another machine, started a minute ago: far over a $1 cap.
  await store.sandboxes.create(record({ id: "sbx_busy", usdPerHour: 3600, meteredSince: new Date(Date.now() - 60_000).toISOString() }));
  await store.sandboxes.create(record({ id: "sbx_paused", state: "paused", usdPerHour: 3600 }));

  const resumed: string[] = [];
  const runtime = {
    name: "ec2",
    capabilities: { pause: true, resourceLimits: false, hostNetwork: false, images: true, loaderEnvironment: true },
    resume: async (machine: { sandboxID: string }) => void resumed.push(machine.sandboxID),
  } as unknown as Runtime;
  const runtimes: RuntimeRegistry = { defaultName: "ec2", get: () => runtime, all: () => [runtime], close: async () => undefined };
  const connections: AgentConnections = {
    get: () => {
      throw new CiabError("agent_unreachable", "no agent in this test");
    },
    drop: () => undefined,
    connectPort: () => {
      throw new CiabError("agent_unreachable", "no agent in this test");
    },
    closeAll: () => undefined,
  };
  const sandboxes = createSandboxService({
    store,
    runtimes,
    connections,
    dataKey: createDataKey(randomBytes(32)),
    logger: createSilentLogger(),
    agentReadyTimeoutMs: 100,
    budget: createBudgetService({ store, maxHourlyUSD: 1 }),
  });
  const member = { userID: "usr_a", workspaceID: "ws_a", role: "member" as const, installationAdmin: false, tokenID: "tok_a" };
  await expect(sandboxes.resume(member, "sbx_paused")).rejects.toMatchObject({ code: "cost_cap_reached" });
  expect(resumed).toEqual([]);
  await store.close();
});
