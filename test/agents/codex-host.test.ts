import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import type { NewSessionEvent } from "@ciab/protocol";
import { describe, expect, test as base } from "vitest";
import { createCodexProvider } from "../../packages/server/src/providers/codex/index.js";
import type { Launch } from "../../packages/server/src/providers/provider.js";
import { startModelServer, type ModelServer } from "../harness/model-server/model-server.js";
import { makeTempDirectory } from "../harness/temp-directory.js";

const toolsBin = path.join(homedir(), ".cache/ciab/tools/node_modules/.bin");
const codexInstalled = existsSync(path.join(toolsBin, "codex"));
const token = "ciab-session-token-codex-host";

const test = base.extend<{ modelServer: ModelServer; root: string }>({
  modelServer: async ({}, use) => {
    const server = await startModelServer();
    await use(server);
    await server.close();
  },
  root: async ({}, use) => {
    const directory = makeTempDirectory("ciab-codex-host-");
    await use(directory.path);
    directory.remove();
  },
});

/** Writes the launch's files and runs its command on the host, the tools dir first on PATH. */
async function runOnHost(launch: Launch, cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  for (const file of launch.files) {
    mkdirSync(path.dirname(file.path), { recursive: true });
    writeFileSync(file.path, file.content, { mode: file.mode });
  }
  const [command, ...argv] = launch.command;
  const env = { PATH: `${toolsBin}:${process.env.PATH ?? "/usr/bin:/bin"}`, HOME: cwd, ...launch.env };
  const child = spawn(command!, argv, { cwd, env, stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  return { code, stdout, stderr };
}

describe.skipIf(!codexInstalled)("codex on the host against the scripted model server", () => {
  test("headless run writes hello.txt and reports the tool call and result", async ({ modelServer, root }) => {
    const home = path.join(root, "home");
    const work = path.join(root, "work");
    mkdirSync(home);
    mkdirSync(work);
    const provider = createCodexProvider();
    const launch = provider.headless(
      {
        gatewayBaseURL: {
          openai: `${modelServer.url}/openai`,
          anthropic: `${modelServer.url}/anthropic`,
          google: `${modelServer.url}/google`,
        },
        gatewayToken: token,
        model: undefined,
        homeDirectory: home,
        workDirectory: work,
      },
      "Create hello.txt in the working directory.",
    );

    // stdin stays open: the launch itself must not wait for it.
    const result = await runOnHost(launch, work);

    expect(result.code, result.stderr).toBe(0);
    expect(readFileSync(path.join(work, "hello.txt"), "utf8")).toBe("hello from codex");
    const parser = provider.createParser();
    const events: NewSessionEvent[] = [
      ...result.stdout.split("\n").filter(Boolean).flatMap((line) => parser.parseLine(line)),
      ...parser.finish(),
    ];
    const types = events.map((event) => event.type);
    expect(types).toContain("tool.call");
    expect(types).not.toContain("session.error");
    expect(events.find((event) => event.type === "agent.result")).toMatchObject({ data: { is_error: false } });
    const calls = modelServer.requests.filter((request) => request.route === "/v1/responses");
    expect(calls.length).toBeGreaterThanOrEqual(2);
    for (const call of calls) {
      expect(call.path.startsWith("/openai/v1/responses")).toBe(true);
      expect(call.headers.authorization).toBe(`Bearer ${token}`);
    }
  });
});
