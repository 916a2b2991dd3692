import { execFileSync } from "node:child_process";
import { readdirSync, readlinkSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestServer, type TestServer } from "../harness/test-server.js";
import { startServerProcess } from "../harness/server-process.js";
import { makeTempDirectory } from "../harness/temp-directory.js";

const templates = path.join(path.dirname(fileURLToPath(import.meta.url)), "templates");

async function waitForState(server: Pick<TestServer, "api">, id: string, states: string[], timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await server.api("GET", `/images/builds/${id}`);
    if (states.includes(answer.body.state) || Date.now() > deadline) return answer.body;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Processes whose working directory is inside `directory` (Packer runs in its build's directory). */
function processesIn(directory: string): number[] {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        return readlinkSync(`/proc/${pid}/cwd`).startsWith(directory);
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe("image build requests and faults", () => {
  const work = makeTempDirectory("ciab-packer-");
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({
      env: {
        CIAB_PACKER_WORK_DIR: work.path,
        CIAB_POLICY_OUTBOUND_ALLOW: "127.0.0.1",
        CIAB_PACKER_TEMPLATE_SOURCE: path.join(templates, "echo-variables.pkr.hcl"),
        CIAB_PACKER_DEFAULT_REGION: "eu-central-1",
        CIAB_PACKER_BUILD_INSTANCE_TYPE: "t3.small",
        CIAB_PACKER_BUILD_SUBNET_ID: "subnet-0123456789abcdef0",
      },
    });
  });
  afterAll(async () => {
    await server?.close();
    work.remove();
  });

  test.each([
    ["an unknown provider", { provider: "nope" }, /unknown provider nope/],
    ["a bad variable name", { template: "builtin://default-docker", vars: { "bad name": "x" } }, /bad variable name/],
    ["a variable the builtin template does not declare", { template: "builtin://default-docker", vars: { node_version: "22" } }, /declares no variable node_version/],
    ["a variable ciab sets itself", { template: "builtin://default-docker", vars: { build_id: "x" } }, /set by ciab/],
    ["an unknown builtin template", { template: "builtin://nope" }, /no builtin template nope/],
    ["a relative template path", { template: "templates/x.pkr.hcl" }, /a template source is/],
    ["path traversal in a git //path", { template: "git::file:///srv/repo//../../etc?ref=main" }, /must stay inside/],
    ["a git ref that is no ref", { template: "git::file:///srv/repo//x?ref=--upload-pack=evil" }, /not a branch or tag/],
    ["an unknown field", { template: "builtin://default-docker", colour: "red" }, /colour/],
  ])("%s is refused with invalid_request", async (_name, body, message) => {
    const answer = await server.api("POST", "/images/build", body);
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe("invalid_request");
    expect(JSON.stringify(answer.body.error)).toMatch(message);
  });

  test("the request's provider, region and instance type, else [packer]'s defaults and template_source, reach the template", async () => {
    const logOf = async (id: string) => fetch(`${server.url}/api/v1/images/builds/${id}/logs`, { headers: { authorization: `Bearer ${server.token}` } }).then((response) => response.text());
    const asked = await server.api("POST", "/images/build", { provider: "codex", region: "eu-west-1", instance_type: "t3.large", wait: true });
    expect(asked.body).toMatchObject({ template: path.join(templates, "echo-variables.pkr.hcl"), provider: "codex", region: "eu-west-1" });
    expect(await logOf(asked.body.id)).toContain("variables: provider=codex region=eu-west-1 instance_type=t3.large subnet_id=subnet-0123456789abcdef0");
    const defaults = await server.api("POST", "/images/build", { wait: true });
    expect(await logOf(defaults.body.id)).toContain("variables: provider=claude-code region=eu-central-1 instance_type=t3.small subnet_id=subnet-0123456789abcdef0");
  });

  test("ids that are not build or image ids are refused, unknown ones are not found", async () => {
    expect((await server.api("GET", "/images/builds/nope")).status).toBe(400);
    expect((await server.api("GET", "/images/builds/bld_00000000000000000000000000")).body.error.code).toBe("not_found");
    expect((await server.api("DELETE", "/images/img_00000000000000000000000000")).body.error.code).toBe("not_found");
  });

  test("a bad template fails the build with Packer's own message", async () => {
    const answer = await server.api("POST", "/images/build", { template: path.join(templates, "broken.pkr.hcl"), wait: true });
    expect(answer.body.state).toBe("failed");
    expect(answer.body.error).toMatch(/An argument named "no_such_option" is not expected here/);
  });

  test("a variable a fetched template does not declare fails the build with our message", async () => {
    const answer = await server.api("POST", "/images/build", { template: path.join(templates, "sleepy.pkr.hcl"), vars: { nope: "1" }, wait: true });
    expect(answer.body).toMatchObject({ state: "failed", error: expect.stringMatching(/declares no variable nope/) });
  });

  test("an unreachable template URL fails the build", async () => {
    const answer = await server.api("POST", "/images/build", { template: "http://127.0.0.1:9/template.pkr.hcl", wait: true });
    expect(answer.body).toMatchObject({ state: "failed", error: expect.stringMatching(/cannot be fetched/) });
  });

  test("a git ref that does not exist fails the build", async () => {
    const repository = makeTempDirectory("ciab-template-repo-");
    try {
      execFileSync("sh", ["-c", `cd ${repository.path} && git init -q -b main && cp ${templates}/sleepy.pkr.hcl . && git add . && git -c user.email=t@t -c user.name=t commit -qm t`]);
      const answer = await server.api("POST", "/images/build", { template: `git::file://${repository.path}//?ref=v9.9.9`, wait: true });
      expect(answer.body).toMatchObject({ state: "failed", error: expect.stringMatching(/git ref v9\.9\.9 does not exist/) });
    } finally {
      repository.remove();
    }
  });

  test("two builds of the same image at once: the second is a conflict; cancel interrupts Packer's group", async () => {
    const template = path.join(templates, "sleepy.pkr.hcl");
    const first = await server.api("POST", "/images/build", { template, provider: "pi" });
    expect(first.status).toBe(202);
    expect(first.body.state).toBe("queued");
    const second = await server.api("POST", "/images/build", { template, provider: "pi" });
    expect(second.status).toBe(409);
    expect(second.body.error).toMatchObject({ code: "conflict", context: { build_id: first.body.id } });
    await waitForState(server, first.body.id, ["building"]);
    const deadline = Date.now() + 20_000;
    while (processesIn(path.join(work.path, first.body.id)).length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(processesIn(path.join(work.path, first.body.id)).length).toBeGreaterThan(0);
    const cancelled = await server.api("POST", `/images/builds/${first.body.id}/cancel`);
    expect(cancelled.body).toMatchObject({ state: "failed", error: expect.stringMatching(/^the build was cancelled/) });
    expect(processesIn(path.join(work.path, first.body.id))).toEqual([]);
    expect((await server.api("POST", `/images/builds/${first.body.id}/cancel`)).body.error.code).toBe("invalid_state");
  });
});

describe("[packer] settings", () => {
  test("packer missing is a typed error naming what to install", async () => {
    const server = await startTestServer({ env: { CIAB_PACKER_BINARY_PATH: "/nonexistent/packer" } });
    try {
      const answer = await server.api("POST", "/images/build", { template: "builtin://default-docker" });
      expect(answer.status).toBe(422);
      expect(answer.body.error.code).toBe("capability_unsupported");
      expect(answer.body.error.message).toMatch(/apt-get install packer/);
    } finally {
      await server.close();
    }
  });

  test("max_concurrent_builds: a build past the limit waits queued until a running one ends", async () => {
    const work = makeTempDirectory("ciab-packer-");
    const server = await startTestServer({ env: { CIAB_PACKER_WORK_DIR: work.path, CIAB_PACKER_MAX_CONCURRENT_BUILDS: "1" } });
    try {
      const template = path.join(templates, "sleepy.pkr.hcl");
      const first = (await server.api("POST", "/images/build", { template, provider: "pi" })).body;
      const second = (await server.api("POST", "/images/build", { template, provider: "codex" })).body;
      expect((await waitForState(server, first.id, ["building"])).state).toBe("building");
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect((await server.api("GET", `/images/builds/${second.id}`)).body.state).toBe("queued");
      await server.api("POST", `/images/builds/${first.id}/cancel`);
      expect((await waitForState(server, second.id, ["building"])).state).toBe("building");
      await server.api("POST", `/images/builds/${second.id}/cancel`);
      expect(processesIn(work.path)).toEqual([]);
    } finally {
      await server.close();
      work.remove();
    }
  });

  test("a build past build_timeout_secs is interrupted and fails", async () => {
    const work = makeTempDirectory("ciab-packer-");
    const server = await startTestServer({ env: { CIAB_PACKER_WORK_DIR: work.path, CIAB_PACKER_BUILD_TIMEOUT_SECS: "3" } });
    try {
      const answer = await server.api("POST", "/images/build", { template: path.join(templates, "sleepy.pkr.hcl"), wait: true });
      expect(answer.body).toMatchObject({ state: "failed", error: expect.stringMatching(/build_timeout_secs \(3s\)/) });
      expect(processesIn(path.join(work.path, answer.body.id))).toEqual([]);
    } finally {
      await server.close();
      work.remove();
    }
  });

  test("the control plane killed during a build: on restart the build is failed and its leftovers removed", async () => {
    const data = makeTempDirectory("ciab-srv-");
    const work = makeTempDirectory("ciab-packer-");
    const env = { CIAB_PACKER_WORK_DIR: work.path, CIAB_SERVER_RECONCILE_INTERVAL_SECONDS: "0" };
    let running = await startServerProcess(data.path, env);
    const call = async (method: string, route: string, body?: unknown) => {
      const response = await fetch(`${running.url}/api/v1${route}`, { method, headers: { authorization: `Bearer ${running.token}`, "content-type": "application/json" }, ...(body !== undefined && { body: JSON.stringify(body) }) });
      return { status: response.status, body: (await response.json()) as { id: string; state: string; error: string | null } };
    };
    try {
      const started = await call("POST", "/images/build", { template: path.join(templates, "lingering.pkr.hcl") });
      const id = started.body.id as string;
      const containers = () => execFileSync("docker", ["ps", "--all", "--quiet", "--filter", `label=ciab-build-id=${id}`], { encoding: "utf8" }).trim();
      const deadline = Date.now() + 60_000;
      while (containers() === "" && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 300));
      expect(containers()).not.toBe("");
      await running.kill("SIGKILL");
      running = await startServerProcess(data.path, env);
      const after = await call("GET", `/images/builds/${id}`);
      expect(after.body).toMatchObject({ state: "failed", error: "the control plane stopped during the build" });
      expect(containers()).toBe("");
      expect(processesIn(path.join(work.path, id))).toEqual([]);
    } finally {
      await running.kill("SIGTERM");
      data.remove();
      work.remove();
    }
  }, 180_000);
});
