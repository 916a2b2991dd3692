import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { parseTemplateSource } from "../../packages/server/src/images/template-source.js";
import { checkBuiltinVariables } from "../../packages/server/src/images/template-variables.js";
import { startTestServer, type TestServer } from "../harness/test-server.js";
import { makeTempDirectory } from "../harness/temp-directory.js";

// A Packer template is code run on the control plane's host: builtin ones interpolate variables into
// shell-local commands, and any template may hold its own shell-local steps. A member must not reach either.

const work = makeTempDirectory("ciab-attack-packer-");
const mark = path.join(work.path, "pwned");
let server: TestServer;
let member: string;
let templates: Server;
let templatesURL = "";

async function buildEnd(id: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const { body } = await server.api("GET", `/images/builds/${id}`);
    if (body.state === "succeeded" || body.state === "failed") return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

beforeAll(async () => {
  templates = createServer((_request, response) => {
    response.end(`source "null" "x" {\n  communicator = "none"\n}\nbuild {\n  sources = ["source.null.x"]\n  provisioner "shell-local" {\n    inline = ["touch ${mark}"]\n  }\n}\n`);
  });
  await new Promise<void>((resolve) => templates.listen(0, "127.0.0.1", resolve));
  templatesURL = `http://127.0.0.1:${(templates.address() as AddressInfo).port}/evil.pkr.hcl`;
  server = await startTestServer({ env: { CIAB_PACKER_WORK_DIR: path.join(work.path, "builds"), CIAB_POLICY_OUTBOUND_ALLOW: "127.0.0.1" } });
  member = (await server.api("POST", "/workspaces", { name: "team-packer", role: "member" })).body.token;
});

afterAll(async () => {
  await server?.close();
  await new Promise<void>((resolve) => templates?.close(() => resolve()));
  work.remove();
});

test.each([
  ["extra_packages", { extra_packages: `jq; touch ${mark} #` }],
  ["base_image", { base_image: `ciab/default:bookworm$(touch ${mark})` }],
  ["install_go", { install_go: "false\ntrue" }],
  ["agent_package", { agent_package: "../../etc" }],
])("a builtin template's %s cannot carry shell into its host steps", async (_name, vars) => {
  const answer = await server.api("POST", "/images/build", { template: "builtin://default-docker", vars }, { token: member });
  if (answer.body.id) await buildEnd(answer.body.id);
  expect(existsSync(mark)).toBe(false);
  expect(answer.status).toBe(400);
  expect(answer.body.error.code).toBe("invalid_request");
});

test("plain package names and an image reference are still taken", () => {
  const vars = { extra_packages: " jq  g++ libc6-dev ", base_image: "ciab/default:bookworm", install_go: "false", agent_package: "@mariozechner/pi-coding-agent" };
  expect(() => checkBuiltinVariables(parseTemplateSource("builtin://default-docker"), vars)).not.toThrow();
  const long = `${"a".repeat(4000)}!`;
  const started = performance.now();
  expect(() => checkBuiltinVariables(parseTemplateSource("builtin://default-docker"), { extra_packages: long })).toThrow(/must match/);
  expect(performance.now() - started).toBeLessThan(100);
});

test.each([
  ["default-docker", { base_image: "ciab/agent:latest" }],
  ["default-ec2", { source_ami_owner: "self", source_ami_name: "ciab-agent-*" }],
  ["default-ec2", { ssh_private_key_file: "/etc/ssh/ssh_host_ed25519_key" }],
])("a member cannot pick %s's base image or have Packer read a host file (%j)", async (name, vars) => {
  const answer = await server.api("POST", "/images/build", { template: `builtin://${name}`, vars }, { token: member });
  expect(answer.status).toBe(403);
  expect(answer.body.error.code).toBe("forbidden");
});

test("default-ec2's variables are checked at the request too", async () => {
  const answer = await server.api("POST", "/images/build", { template: "builtin://default-ec2", vars: { install_toolchains: "yes; id" } }, { token: member });
  expect(answer.status).toBe(400);
});

test("a member cannot build from a template URL, whose shell-local steps would run on the host", async () => {
  const answer = await server.api("POST", "/images/build", { template: templatesURL, wait: true }, { token: member });
  expect(existsSync(mark)).toBe(false);
  expect(answer.status).toBe(403);
  expect(answer.body.error.code).toBe("forbidden");
  const remote = await server.api("POST", "/images/build", { template: "git::git://127.0.0.1:9/repo//images?ref=main" }, { token: member });
  expect(remote.status).toBe(403);
});
