import { existsSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startTestServer, type TestServer } from "../harness/test-server.js";
import { makeTempDirectory } from "../harness/temp-directory.js";

// `[policy] allow_local_repos` lets members clone repositories of this host. A local sandbox's work dir is a
// directory of this host that its member writes: were host templates open to members with it, a template
// written there would run its shell-local steps on the host, and any file of the host (another sandbox's,
// the server's keys) would be quoted back in Packer's parse errors.

const work = makeTempDirectory("ciab-attack-packer-local-");
const mark = path.join(work.path, "pwned");
let server: TestServer;
let member: string;

beforeAll(async () => {
  server = await startTestServer({
    env: {
      CIAB_RUNTIME_ENABLED: "local",
      CIAB_RUNTIME_BACKEND: "local",
      CIAB_POLICY_ALLOW_LOCAL_REPOS: "true",
      CIAB_PACKER_WORK_DIR: path.join(work.path, "builds"),
    },
  });
  member = (await server.api("POST", "/workspaces", { name: "team-local-templates", role: "member" })).body.token;
});

afterAll(async () => {
  await server?.close();
  work.remove();
});

test("a member cannot build from a template written into their own sandbox's work dir on the host", async () => {
  const sandbox = await server.api("POST", "/sandboxes", { runtime: "local" }, { token: member });
  expect(sandbox.status).toBe(201);
  const template = `source "null" "x" {\n  communicator = "none"\n}\nbuild {\n  sources = ["source.null.x"]\n  provisioner "shell-local" {\n    inline = ["touch ${mark}"]\n  }\n}\n`;
  const written = await server.api("POST", `/sandboxes/${sandbox.body.id}/files/write`, { path: "/workspace/evil.pkr.hcl", content: template }, { token: member });
  expect(written.status).toBe(200);
  const hostPath = path.join(server.dataDirectory, "sandboxes", sandbox.body.id, "workspace", "evil.pkr.hcl");
  expect(existsSync(hostPath)).toBe(true);

  const answer = await server.api("POST", "/images/build", { template: hostPath, wait: true }, { token: member });
  expect(existsSync(mark)).toBe(false);
  expect(answer.status).toBe(403);
  expect(answer.body.error.code).toBe("forbidden");
  await server.api("DELETE", `/sandboxes/${sandbox.body.id}`, undefined, { token: member });
});

test("a member cannot have a file of the host quoted back as a template", async () => {
  const answer = await server.api("POST", "/images/build", { template: path.join(server.dataDirectory, "admin-token"), wait: true }, { token: member });
  expect(JSON.stringify(answer.body)).not.toContain(server.token);
  expect(answer.status).toBe(403);
});
