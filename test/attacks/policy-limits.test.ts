import { afterAll, beforeAll, expect, test } from "vitest";
import { startTestServer, type TestServer } from "../harness/test-server.js";

let server: TestServer;
let memberToken: string;
let workspaceAdminToken: string;

beforeAll(async () => {
  server = await startTestServer({
    env: {
      CIAB_RUNTIME_ENABLED: "local,docker",
      CIAB_POLICY_RUNTIMES: "docker",
      CIAB_POLICY_IMAGES: "debian:bookworm-slim",
      CIAB_POLICY_MAX_CPUS: "1",
      CIAB_POLICY_MAX_MEMORY_MB: "512",
      CIAB_POLICY_MAX_PIDS: "1024",
    },
  });
  memberToken = (await server.api("POST", "/workspaces", { name: "m", role: "member" })).body.token;
  workspaceAdminToken = (await server.api("POST", "/workspaces", { name: "a", role: "admin" })).body.token;
});

afterAll(async () => {
  await server?.close();
});

test.each([
  { what: "a runtime outside [policy] runtimes", request: { runtime: "local" }, key: "runtimes" },
  { what: "an image outside [policy] images", request: { runtime: "docker", image: "attacker/miner:latest" }, key: "images" },
  { what: "more cpus than max_cpus", request: { runtime: "docker", resources: { cpus: 8 } }, key: "max_cpus" },
  { what: "more memory than max_memory_mb", request: { runtime: "docker", resources: { memory_mb: 65_536 } }, key: "max_memory_mb" },
  { what: "more pids than max_pids", request: { runtime: "docker", resources: { pids: 100_000 } }, key: "max_pids" },
])("$what: refused to members and workspace admins, by POST /sandboxes and by a session alike", async ({ request, key }) => {
  for (const token of [memberToken, workspaceAdminToken]) {
    const direct = await server.api("POST", "/sandboxes", request, { token });
    const viaSession = await server.api("POST", "/sessions", { provider: "shell", prompt: "true", ...request }, { token });
    expect(direct.status).toBe(403);
    expect(direct.body.error.message).toContain(`[policy] ${key}`);
    expect(viaSession.body).toEqual(direct.body);
    expect((await server.api("GET", "/sandboxes?all=true", undefined, { token })).body.sandboxes).toEqual([]);
  }
});

test("installation admins are not bound by the limits", async () => {
  const created = await server.api("POST", "/sandboxes?wait=false", { runtime: "local" });
  expect(created.status).toBe(202);
  await server.api("DELETE", `/sandboxes/${created.body.id}`);
});

test("a built image's id passes [policy] images but resolves only within the caller's workspace: unknown there is 404", async () => {
  for (const token of [memberToken, workspaceAdminToken]) {
    const request = { runtime: "docker", image: "img_01j00000000000000000000000" };
    const created = await server.api("POST", "/sandboxes", request, { token });
    expect(created.status).toBe(404);
    expect(created.body.error.code).toBe("not_found");
    const viaSession = await server.api("POST", "/sessions", { provider: "shell", prompt: "true", ...request }, { token });
    expect(viaSession.body).toEqual(created.body);
    expect((await server.api("GET", "/sessions", undefined, { token })).body.sessions).toEqual([]);
    expect((await server.api("GET", "/sandboxes?all=true", undefined, { token })).body.sandboxes).toEqual([]);
  }
});
