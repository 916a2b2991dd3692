import { execFile, spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProgram } from "../../packages/cli/src/program.js";
import { commandPath, helpExamples } from "../../packages/cli/src/help-examples.js";
import { makeTempDirectory } from "../harness/temp-directory.js";
import { startTestServer, type TestServer } from "../harness/test-server.js";

const bin = path.resolve(import.meta.dirname, "../../packages/cli/bin/ciab.mjs");
let server: TestServer;
let home: ReturnType<typeof makeTempDirectory>;

beforeAll(async () => {
  server = await startTestServer();
  home = makeTempDirectory("ciab-cli-home-");
});
afterAll(async () => {
  await server?.close();
  home?.remove();
});

/** `ciab` from the built CLI, with a home of its own and nothing from this process's environment. */
async function ciab(args: string[], env: Record<string, string> = {}, input = ""): Promise<{ code: number; stdout: string; stderr: string }> {
  // Asynchronous: the server answering it runs in this process.
  const child = execFile(process.execPath, [bin, ...args], {
    env: { ...process.env, CIAB_URL: "", CIAB_TOKEN: "", CIAB_DATA_DIR: "", HOME: home.path, XDG_CONFIG_HOME: "", ...env },
    cwd: home.path,
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin!.end(input);
  const code = await new Promise<number>((resolve) => child.once("close", (status) => resolve(status ?? -1)));
  return { code, stdout, stderr };
}

function asAdmin(): Record<string, string> {
  return { CIAB_URL: server.url, CIAB_TOKEN: server.token };
}

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const listener = createServer();
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  const { port } = listener.address() as { port: number };
  await new Promise((resolve) => listener.close(resolve));
  return port;
}

describe("exit codes: ciab's own failures are never 0 or 1", () => {
  it("exits 2 for usage errors, and prints them as JSON with --json", async () => {
    const unknown = await ciab(["sandbox", "list", "--colour"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown option '--colour'");
    const json = await ciab(["sandbox", "list", "--colour", "--json"]);
    expect(json).toMatchObject({ code: 2, stderr: "" });
    expect(JSON.parse(json.stdout)).toEqual({ error: { code: "invalid_arguments", message: "unknown option '--colour'" } });
    const choice = await ciab(["sandbox", "create", "--runtime", "mainframe", "--json"]);
    expect(choice.code).toBe(2);
    expect(JSON.parse(choice.stdout).error.message).toContain("mainframe");
    const own = await ciab(["sandbox", "cp", "a", "b", "--json"]);
    expect(own.code).toBe(2);
    expect(JSON.parse(own.stdout).error.code).toBe("invalid_arguments");
  });

  it("exits 125 for an API error", async () => {
    const missing = await ciab(["sandbox", "get", "sbx_00000000000000000000000000", "--json"], asAdmin());
    expect(missing.code).toBe(125);
    expect(JSON.parse(missing.stdout).error.code).toBe("sandbox_not_found");
    const refused = await ciab(["sandbox", "list"], { CIAB_URL: server.url, CIAB_TOKEN: "ciab_wrong" });
    expect(refused.code).toBe(125);
    expect(refused.stderr).toContain("(unauthorized)");
  });

  it("exits 69 when no server is configured or it cannot be reached", async () => {
    expect((await ciab(["sandbox", "list"])).code).toBe(69);
    const url = `http://127.0.0.1:${await closedPort()}`;
    const unreachable = await ciab(["sandbox", "list", "--json"], { CIAB_URL: url, CIAB_TOKEN: "ciab_x" });
    expect(unreachable.code).toBe(69);
    expect(JSON.parse(unreachable.stdout).error.code).toBe("connection_failed");
  });

  it("passes the remote command's own code through, 1 included", async () => {
    const created = await ciab(["sandbox", "create", "--runtime", "local", "--json"], asAdmin());
    expect(created.code).toBe(0);
    const { id } = JSON.parse(created.stdout) as { id: string };
    expect((await ciab(["sandbox", "exec", id, "--", "sh", "-c", "exit 1"], asAdmin())).code).toBe(1);
    expect((await ciab(["sandbox", "exec", id, "--", "sh", "-c", "exit 7"], asAdmin())).code).toBe(7);
    expect((await ciab(["sandbox", "rm", id], asAdmin())).code).toBe(0);
  });

  it("documents the codes in --help", async () => {
    const help = await ciab(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Exit status:[\s\S]*\b2\b[\s\S]*\b69\b[\s\S]*\b125\b/);
  });
});

describe("login: the server and token saved in the user's config", () => {
  it("checks the token, saves it owner-only, and every later command finds the server from any directory", async () => {
    const wrong = await ciab(["login", "--url", server.url, "--token", "ciab_wrong"]);
    expect(wrong.code).toBe(125);
    const file = path.join(home.path, ".config", "ciab", "config.json");
    expect(existsSync(file)).toBe(false);
    const saved = await ciab(["login", "--url", server.url, "--json"], {}, `${server.token}\n`);
    expect(saved.code).toBe(0);
    expect(JSON.parse(saved.stdout)).toEqual({ url: server.url, config: file });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({ url: server.url, token: server.token });
    const listed = await ciab(["sandbox", "list", "--json"]);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toHaveProperty("sandboxes");
    expect((await ciab(["logout"])).code).toBe(0);
    expect((await ciab(["sandbox", "list"])).code).toBe(69);
  });
});

describe("help and completion", () => {
  it("shows an example in the help of every command", () => {
    const missing: string[] = [];
    const visit = (command: ReturnType<typeof createProgram>): void => {
      if (!helpExamples[commandPath(command)]) missing.push(commandPath(command));
      command.commands.forEach(visit);
    };
    visit(createProgram());
    expect(missing).toEqual([]);
  });

  it("prints an example under --help", async () => {
    const help = await ciab(["sandbox", "exec", "--help"]);
    expect(help.stdout).toContain("Examples:\n  $ ciab sandbox exec sbx_01jd… -- npm test");
  });

  it("completes commands and options in bash", async () => {
    const script = path.join(home.path, "ciab.bash");
    writeFileSync(script, (await ciab(["completion", "bash"])).stdout);
    const complete = (...words: string[]) =>
      spawnSync("bash", ["-c", `source ${script}; COMP_WORDS=(${words.join(" ")}); COMP_CWORD=${words.length - 1}; _ciab; echo "\${COMPREPLY[*]}"`], {
        encoding: "utf8",
      }).stdout.trim();
    expect(complete("ciab", "sa")).toBe("sandbox");
    expect(complete("ciab", "sandbox", "ex")).toBe("exec");
    expect(complete("ciab", "sbx", "exec", "--cw")).toBe("--cwd");
    expect(complete("ciab", "session", "logs", "--fo")).toBe("--follow");
  });

  it("prints zsh and fish scripts, and refuses another shell", async () => {
    expect((await ciab(["completion", "zsh"])).stdout).toContain("bashcompinit");
    const fish = (await ciab(["completion", "fish"])).stdout;
    expect(fish).toContain("complete -c ciab -f -n 'test (__ciab_path) = \\'at: sandbox\\'' -a 'exec'");
    expect((await ciab(["completion", "tcsh"])).code).toBe(2);
  });
});
