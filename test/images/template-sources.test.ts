import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { declaredVariables, materializeTemplate, parseTemplateSource } from "../../packages/server/src/images/template-source.js";
import { createOutboundPolicy } from "../../packages/server/src/services/outbound-policy.js";
import { makeTempDirectory } from "../harness/temp-directory.js";

const template = 'variable "region" {\n  type = string\n}\nsource "null" "x" {\n  communicator = "none"\n}\nbuild {\n  sources = ["source.null.x"]\n}\n';

describe("template sources", () => {
  const temp = makeTempDirectory("ciab-template-");
  const repository = path.join(temp.path, "repo");
  let http: Server;
  let httpURL = "";
  let daemon: ChildProcess;
  let daemonPort = 0;
  const options = (overrides: Partial<Parameters<typeof materializeTemplate>[2]> = {}) => ({
    policy: createOutboundPolicy({ allowPrivateNetwork: false, allow: ["127.0.0.1"] }),
    allowLocal: true,
    maxBytes: 64 * 1024,
    signal: AbortSignal.timeout(30_000),
    ...overrides,
  });
  let counter = 0;
  const target = () => path.join(temp.path, `out-${(counter += 1)}`);

  beforeAll(async () => {
    mkdirSync(path.join(repository, "images", "agent"), { recursive: true });
    writeFileSync(path.join(repository, "images", "agent", "agent.pkr.hcl"), template);
    writeFileSync(path.join(repository, "images", "agent", "setup.sh"), "echo setup\n");
    symlinkSync("/etc", path.join(repository, "images", "escape"));
    execFileSync("sh", ["-c", "git init -q -b main && git add . && git -c user.email=t@t -c user.name=t commit -qm one && git tag v1"], { cwd: repository });
    http = createServer((request, response) => {
      if (request.url === "/agent.pkr.hcl") response.end(template);
      else if (request.url === "/big.pkr.hcl") response.end("#".repeat(200 * 1024));
      else if (request.url === "/redirect") response.writeHead(302, { location: "http://169.254.169.254/" }).end();
      else response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    httpURL = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    daemonPort = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    daemon = spawn("git", ["daemon", "--listen=127.0.0.1", `--port=${daemonPort}`, "--export-all", `--base-path=${temp.path}`, temp.path], { stdio: "ignore" });
    await new Promise((resolve) => setTimeout(resolve, 500));
  });

  afterAll(async () => {
    daemon?.kill();
    await new Promise<void>((resolve) => http?.close(() => resolve()));
    temp.remove();
  });

  test("builtin:// copies the template and its helper files", async () => {
    const directory = target();
    await materializeTemplate(parseTemplateSource("builtin://default-docker"), directory, options());
    expect(readdirSync(directory).sort()).toEqual(["copy-agent.cjs", "default-docker.pkr.hcl", "export-host-packages.sh"]);
    expect([...(await declaredVariables(directory))]).toContain("install_rust");
    await materializeTemplate(parseTemplateSource("builtin://default-ec2"), target(), options());
  });

  test("a file and a directory on this host", async () => {
    const file = target();
    await materializeTemplate(parseTemplateSource(path.join(repository, "images", "agent", "agent.pkr.hcl")), file, options());
    expect(readdirSync(file)).toEqual(["agent.pkr.hcl"]);
    const directory = target();
    await materializeTemplate(parseTemplateSource(path.join(repository, "images", "agent")), directory, options());
    expect(readdirSync(directory).sort()).toEqual(["agent.pkr.hcl", "setup.sh"]);
    expect([...(await declaredVariables(directory))]).toEqual(["region"]);
    await expect(materializeTemplate(parseTemplateSource(repository), target(), options())).rejects.toThrow(/no Packer HCL2 template/);
    await expect(materializeTemplate(parseTemplateSource("/nonexistent/x.pkr.hcl"), target(), options())).rejects.toThrow(/cannot be read/);
    await expect(materializeTemplate(parseTemplateSource(path.join(repository, "images", "agent")), target(), options({ allowLocal: false }))).rejects.toThrow(/installation admins/);
  });

  test("an http URL on loopback, bounded, never following a redirect, refused where the policy refuses", async () => {
    const directory = target();
    await materializeTemplate(parseTemplateSource(`${httpURL}/agent.pkr.hcl`), directory, options());
    expect(readFileSync(path.join(directory, "template.pkr.hcl"), "utf8")).toBe(template);
    await expect(materializeTemplate(parseTemplateSource(`${httpURL}/big.pkr.hcl`), target(), options())).rejects.toThrow(/max_template_bytes/);
    await expect(materializeTemplate(parseTemplateSource(`${httpURL}/missing`), target(), options())).rejects.toThrow(/HTTP 404/);
    await expect(materializeTemplate(parseTemplateSource(`${httpURL}/redirect`), target(), options())).rejects.toThrow(/HTTP 302/);
    const strict = options({ policy: createOutboundPolicy({ allowPrivateNetwork: false, allow: [] }) });
    await expect(materializeTemplate(parseTemplateSource(`${httpURL}/agent.pkr.hcl`), target(), strict)).rejects.toMatchObject({ code: "forbidden" });
  });

  test("git over file:// and over git:// on loopback, at a tag and at a branch", async () => {
    const overFile = target();
    await materializeTemplate(parseTemplateSource(`git::file://${repository}//images/agent?ref=v1`), overFile, options());
    expect(readdirSync(overFile).sort()).toEqual(["agent.pkr.hcl", "setup.sh"]);
    const overGit = target();
    await materializeTemplate(parseTemplateSource(`git::git://127.0.0.1:${daemonPort}/repo//images/agent?ref=main`), overGit, options());
    expect(readFileSync(path.join(overGit, "agent.pkr.hcl"), "utf8")).toBe(template);
  });

  test("git: a missing ref, a missing path, and a symlink out of the repository", async () => {
    await expect(materializeTemplate(parseTemplateSource(`git::file://${repository}//images/agent?ref=nope`), target(), options())).rejects.toThrow(/git ref nope does not exist/);
    await expect(materializeTemplate(parseTemplateSource(`git::file://${repository}//images/none?ref=v1`), target(), options())).rejects.toThrow(/has no path images\/none/);
    await expect(materializeTemplate(parseTemplateSource(`git::file://${repository}//images/escape?ref=v1`), target(), options())).rejects.toThrow(/must stay inside/);
    await expect(materializeTemplate(parseTemplateSource(`git::file://${repository}//images/agent`), target(), options({ allowLocal: false }))).rejects.toThrow(/installation admins/);
  });
});
