import { execFile } from "node:child_process";
import { readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTempDirectory } from "../harness/temp-directory.js";
import { startTestServer, type TestServer } from "../harness/test-server.js";

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, "../..");
const typescript = path.join(root, "node_modules", "typescript", "bin", "tsc");
let server: TestServer;
let work: ReturnType<typeof makeTempDirectory>;
let tarballs: { sdk: string; cli: string };

/** npm with nothing from the registry: what the tarballs need must be in them or in npm's cache. */
async function npm(args: string[], cwd: string): Promise<void> {
  await run("npm", [...args, "--offline", "--no-audit", "--no-fund", "--loglevel=error"], { cwd, env: { ...process.env, npm_config_update_notifier: "false" } });
}

async function pack(workspace: string): Promise<string> {
  const before = new Set(readdirSync(work.path));
  await npm(["pack", "--workspace", workspace, "--pack-destination", work.path], root);
  const tarball = readdirSync(work.path).find((name) => name.endsWith(".tgz") && !before.has(name));
  if (!tarball) throw new Error(`npm pack ${workspace} made no tarball`);
  return path.join(work.path, tarball);
}

beforeAll(async () => {
  work = makeTempDirectory("ciab-packages-");
  tarballs = { sdk: await pack("@ciab/sdk"), cli: await pack("@ciab/cli") };
  server = await startTestServer();
}, 240_000);
afterAll(async () => {
  await server?.close();
  work?.remove();
});

/** Runs a script with plain node in `cwd`, pointed at the test server; answers its stdout parsed. */
async function node(cwd: string, file: string, env: Record<string, string> = { CIAB_URL: server.url, CIAB_TOKEN: server.token }) {
  const { stdout } = await run(process.execPath, [file], {
    cwd,
    env: { PATH: process.env.PATH!, HOME: cwd, ...env },
  });
  return JSON.parse(stdout) as unknown;
}

describe("the packed SDK", () => {
  let project: string;

  beforeAll(async () => {
    project = path.join(work.path, "sdk-user");
    await run("mkdir", ["-p", project]);
    writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "sdk-user", private: true }));
    await npm(["install", tarballs.sdk], project);
  }, 120_000);

  it("carries no @ciab package but itself", async () => {
    const { stdout } = await run("tar", ["-xOzf", tarballs.sdk, "package/package.json"]);
    const manifest = JSON.parse(stdout) as { dependencies?: Record<string, string> };
    expect(Object.keys(manifest.dependencies ?? {}).filter((name) => name.startsWith("@ciab/"))).toEqual([]);
    expect(readdirSync(path.join(project, "node_modules", "@ciab"))).toEqual(["sdk"]);
  });

  it("works from an ES module with CIAB_URL and CIAB_TOKEN", async () => {
    writeFileSync(
      path.join(project, "probe.mjs"),
      `import { Ciab, NotFoundError } from "@ciab/sdk";
const ciab = new Ciab();
const health = await ciab.health();
const sandbox = await ciab.sandboxes.create({ runtime: "local" });
const result = await sandbox.commands.run(["echo", "from esm"]);
let missing = "";
try { await ciab.sandboxes.get("sbx_00000000000000000000000000"); } catch (error) { missing = error instanceof NotFoundError ? error.code : String(error); }
await sandbox.delete();
console.log(JSON.stringify({ status: health.status, stdout: result.stdout, missing }));
`,
    );
    expect(await node(project, "probe.mjs")).toEqual({ status: "ok", stdout: "from esm\n", missing: "sandbox_not_found" });
  });

  it("works from CommonJS with require", async () => {
    writeFileSync(
      path.join(project, "probe.cjs"),
      `const { Ciab } = require("@ciab/sdk");
new Ciab().sandboxes.list().then((sandboxes) => console.log(JSON.stringify({ listed: Array.isArray(sandboxes) })));
`,
    );
    expect(await node(project, "probe.cjs")).toEqual({ listed: true });
  });

  it("finds the server in the user's config file when the environment names none", async () => {
    const config = path.join(project, ".config", "ciab");
    await run("mkdir", ["-p", config]);
    writeFileSync(path.join(config, "config.json"), JSON.stringify({ url: server.url, token: server.token }), { mode: 0o600 });
    expect(await node(project, "probe.cjs", {})).toEqual({ listed: true });
  });

  it("has types a TypeScript project checks against", async () => {
    writeFileSync(
      path.join(project, "typed.mts"),
      `import { Ciab, type Sandbox } from "@ciab/sdk";
const ciab = new Ciab({ url: "http://127.0.0.1:1" });
export async function states(): Promise<Sandbox["state"][]> {
  return (await ciab.sandboxes.list()).map((handle) => handle.info.state);
}
`,
    );
    writeFileSync(
      path.join(project, "typed.cts"),
      `import sdk = require("@ciab/sdk");
export const client: sdk.Ciab = new sdk.Ciab();
`,
    );
    writeFileSync(
      path.join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: { strict: true, noEmit: true, module: "nodenext", moduleResolution: "nodenext", skipLibCheck: true, types: [] },
        files: ["typed.mts", "typed.cts"],
      }),
    );
    const checked = await run(process.execPath, [typescript, "-p", project], { cwd: project }).catch((error: { stdout: string }) => error);
    expect(checked.stdout).toBe("");
  }, 60_000);
});

describe("the packed CLI", () => {
  let ciab: string;

  beforeAll(async () => {
    const prefix = path.join(work.path, "global");
    await npm(["install", "-g", "--prefix", prefix, tarballs.cli], work.path);
    ciab = path.join(prefix, "bin", "ciab");
  }, 120_000);

  it("installs globally with no dependencies and runs against a server", async () => {
    const { stdout } = await run(ciab, ["sandbox", "list", "--json"], {
      cwd: work.path,
      env: { PATH: process.env.PATH!, HOME: work.path, CIAB_URL: server.url, CIAB_TOKEN: server.token },
    });
    expect(JSON.parse(stdout)).toHaveProperty("sandboxes");
  });

  it("says that the server runs from a checkout", async () => {
    const result = await run(ciab, ["server"], { cwd: work.path, env: { PATH: process.env.PATH!, HOME: work.path } }).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(result).toMatchObject({ code: 2 });
    expect((result as { stderr: string }).stderr).toContain("run the server from a checkout");
  });
});
