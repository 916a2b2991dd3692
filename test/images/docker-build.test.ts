import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestServer, type TestServer } from "../harness/test-server.js";
import { makeTempDirectory } from "../harness/temp-directory.js";

/**
 * builtin://default-docker end to end: Packer's docker builder on ciab's base image (no network, no
 * registry), the image recorded, a sandbox booted from it running the installed agent CLI, the log kept
 * and streamed, and the image removed by delete.
 */
describe("builtin://default-docker", () => {
  const work = makeTempDirectory("ciab-packer-");
  let server: TestServer;
  let build: { id: string; state: string; image_id: string | null; error: string | null };

  beforeAll(async () => {
    server = await startTestServer({ env: { CIAB_RUNTIME_ENABLED: "local,docker", CIAB_PACKER_WORK_DIR: work.path } });
    const answer = await server.api("POST", "/images/build", { template: "builtin://default-docker", provider: "pi", wait: true });
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
    const listed = await server.api("GET", "/images?provider=pi");
    expect(listed.body.images).toEqual([expect.objectContaining({ id: build.image_id, runtime: "docker", build_id: build.id, reference: `ciab/image:${build.id}` })]);
    const labels = JSON.parse(execFileSync("docker", ["image", "inspect", `ciab/image:${build.id}`, "--format", "{{json .Config.Labels}}"], { encoding: "utf8" }));
    expect(labels).toMatchObject({ "ciab-managed": "true", "ciab-build-id": build.id, "ciab-provider": "pi" });
    const status = await server.api("GET", `/images/builds/${build.id}`);
    expect(status.body).toMatchObject({ state: "succeeded", percent: 100 });
    expect(execFileSync("docker", ["ps", "--all", "--quiet", "--filter", `label=ciab-build-id=${build.id}`], { encoding: "utf8" }).trim()).toBe("");
  });

  test("a sandbox on docker boots from the image and runs the installed agent CLI", async () => {
    const created = await server.api("POST", "/sandboxes", { runtime: "docker", image: build.image_id });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const probe = await server.api("POST", `/sandboxes/${created.body.id}/exec`, { command: ["sh", "-c", "/usr/local/bin/pi --version 2>&1 && python3 --version && jq --version && id ciab"] });
    expect(probe.body.exit_code, JSON.stringify(probe.body)).toBe(0);
    expect(probe.body.stdout).toMatch(/0\.73\.1/);
    expect(probe.body.stdout).toMatch(/Python 3\.11/);
    await server.api("DELETE", `/sandboxes/${created.body.id}`);
  });

  test("the log is kept and streamed as server-sent events", async () => {
    const response = await fetch(`${server.url}/api/v1/images/builds/${build.id}/logs`, { headers: { authorization: `Bearer ${server.token}` } });
    expect(response.headers.get("content-type")).toMatch(/text\/event-stream/);
    const text = await response.text();
    expect(text).toMatch(/event: log\.line/);
    expect(text).toMatch(/Committing the container/);
    expect(text).toMatch(/event: build\.end/);
  });

  test("another workspace sees neither the build nor the image", async () => {
    const workspace = await server.api("POST", "/workspaces", { name: "other" });
    const token = workspace.body.token as string;
    expect((await server.api("GET", `/images/builds/${build.id}`, undefined, { token })).status).toBe(404);
    expect((await server.api("GET", `/images/${build.image_id}`, undefined, { token })).status).toBe(404);
    expect((await server.api("DELETE", `/images/${build.image_id}`, undefined, { token })).status).toBe(404);
    expect((await server.api("GET", "/images", undefined, { token })).body.images).toEqual([]);
  });

  test("delete removes the Docker image", async () => {
    const deleted = await server.api("DELETE", `/images/${build.image_id}`);
    expect(deleted.status).toBe(200);
    expect(() => execFileSync("docker", ["image", "inspect", `ciab/image:${build.id}`], { stdio: "ignore" })).toThrow();
    expect((await server.api("GET", `/images/${build.image_id}`)).status).toBe(404);
  });
});
