import { execFile, execFileSync } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestServer, type TestServer } from "../harness/test-server.js";
import { makeTempDirectory } from "../harness/temp-directory.js";

const execFileAsync = promisify(execFile);
const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "packages", "cli", "bin", "ciab.mjs");

/**
 * builtin://default-docker end to end: Packer's docker builder on ciab's base image (no network, no
 * registry), the image recorded, a sandbox booted from it running the installed agent CLI, the log kept
 * and streamed, and the image removed by delete.
 */
describe("builtin://default-docker", () => {
  const work = makeTempDirectory("ciab-packer-");
  let server: TestServer;
  let build: { id: string; state: string; image_id: string | null; error: string | null };
  // The build is a member's of workspace "team"; [policy] images lists something else, so only the rule
  // that a workspace's own builds may be booted (`[policy] workspace_images`) lets the member use it.
  let token = "";

  beforeAll(async () => {
    server = await startTestServer({ env: { CIAB_RUNTIME_ENABLED: "local,docker", CIAB_PACKER_WORK_DIR: work.path, CIAB_POLICY_IMAGES: "debian:bookworm-slim" } });
    token = (await server.api("POST", "/workspaces", { name: "team", role: "member" })).body.token;
    const answer = await server.api("POST", "/images/build", { template: "builtin://default-docker", provider: "pi", wait: true }, { token });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    build = answer.body;
  }, 600_000);

  afterAll(async () => {
    await server?.close();
    work.remove();
  });

  test("the build succeeds with an image of the docker runtime", async () => {
    expect(build.error).toBeNull();
    expect(build.state).toBe("succeeded");
    const listed = await server.api("GET", "/images?provider=pi", undefined, { token });
    expect(listed.body.images).toEqual([expect.objectContaining({ id: build.image_id, runtime: "docker", build_id: build.id, reference: `ciab/image:${build.id}` })]);
    const labels = JSON.parse(execFileSync("docker", ["image", "inspect", `ciab/image:${build.id}`, "--format", "{{json .Config.Labels}}"], { encoding: "utf8" }));
    expect(labels).toMatchObject({ "ciab-managed": "true", "ciab-build-id": build.id, "ciab-provider": "pi" });
    const status = await server.api("GET", `/images/builds/${build.id}`, undefined, { token });
    expect(status.body).toMatchObject({ state: "succeeded", percent: 100 });
    expect(execFileSync("docker", ["ps", "--all", "--quiet", "--filter", `label=ciab-build-id=${build.id}`], { encoding: "utf8" }).trim()).toBe("");
  });

  test("a member's sandbox on docker boots from the workspace's image and runs the installed agent CLI", async () => {
    const created = await server.api("POST", "/sandboxes", { runtime: "docker", image: build.image_id }, { token });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const probe = await server.api("POST", `/sandboxes/${created.body.id}/exec`, { command: ["sh", "-c", "/usr/local/bin/pi --version 2>&1 && python3 --version && jq --version && id ciab"] }, { token });
    expect(probe.body.exit_code, JSON.stringify(probe.body)).toBe(0);
    expect(probe.body.stdout).toMatch(/0\.73\.1/);
    expect(probe.body.stdout).toMatch(/Python 3\.11/);
    await server.api("DELETE", `/sandboxes/${created.body.id}`, undefined, { token });
    // The image's own reference is not an id of the workspace: [policy] images decides it, and refuses.
    const byReference = await server.api("POST", "/sandboxes", { runtime: "docker", image: `ciab/image:${build.id}` }, { token });
    expect(byReference.status).toBe(403);
  });

  test("the CLI lists the image by provider and creates a sandbox from it", async () => {
    // Asynchronously: the server answering the CLI runs in this process.
    const ciab = async (args: string[]) => {
      const { stdout } = await execFileAsync(process.execPath, [cli, ...args, "--json"], { env: { ...process.env, CIAB_URL: server.url, CIAB_TOKEN: token }, timeout: 120_000 });
      return JSON.parse(stdout);
    };
    expect((await ciab(["image", "list", "--provider", "pi"])).images.map((image: { id: string }) => image.id)).toEqual([build.image_id]);
    expect((await ciab(["image", "list", "--provider", "codex"])).images).toEqual([]);
    const sandbox = await ciab(["sandbox", "create", "--runtime", "docker", "--image", build.image_id!]);
    expect(sandbox).toMatchObject({ state: "ready", image: `ciab/image:${build.id}` });
    await ciab(["sandbox", "rm", sandbox.id]);
  });

  test("the log is kept and streamed as server-sent events", async () => {
    const response = await fetch(`${server.url}/api/v1/images/builds/${build.id}/logs`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.headers.get("content-type")).toMatch(/text\/event-stream/);
    const text = await response.text();
    expect(text).toMatch(/event: log\.line/);
    expect(text).toMatch(/Committing the container/);
    expect(text).toMatch(/event: build\.end/);
  });

  test("another workspace neither sees the build and the image nor boots the image: 404", async () => {
    const other = (await server.api("POST", "/workspaces", { name: "other", role: "member" })).body.token as string;
    // The installation admin's own workspace is another workspace too.
    for (const outsider of [other, server.token]) {
      expect((await server.api("GET", `/images/builds/${build.id}`, undefined, { token: outsider })).status).toBe(404);
      expect((await server.api("GET", `/images/${build.image_id}`, undefined, { token: outsider })).status).toBe(404);
      expect((await server.api("DELETE", `/images/${build.image_id}`, undefined, { token: outsider })).status).toBe(404);
      expect((await server.api("GET", "/images", undefined, { token: outsider })).body.images).toEqual([]);
      const boot = await server.api("POST", "/sandboxes", { runtime: "docker", image: build.image_id }, { token: outsider });
      expect(boot.status, JSON.stringify(boot.body)).toBe(404);
      expect(boot.body.error.code).toBe("not_found");
      expect((await server.api("GET", "/sandboxes?all=true", undefined, { token: outsider })).body.sandboxes).toEqual([]);
    }
  });

  test("delete removes the Docker image", async () => {
    const deleted = await server.api("DELETE", `/images/${build.image_id}`, undefined, { token });
    expect(deleted.status).toBe(200);
    expect(() => execFileSync("docker", ["image", "inspect", `ciab/image:${build.id}`], { stdio: "ignore" })).toThrow();
    expect((await server.api("GET", `/images/${build.image_id}`, undefined, { token })).status).toBe(404);
  });
});
