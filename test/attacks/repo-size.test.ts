import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import type { SessionEvent } from "@ciab/protocol";
import { Ciab } from "../../packages/sdk/src/index.js";
import { makeTempDirectory } from "../harness/temp-directory.js";
import { startTestServer, type TestServer } from "../harness/test-server.js";

let server: TestServer;
let ciab: Ciab;
const repo = makeTempDirectory("ciab-big-repo-");

beforeAll(async () => {
  const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], { cwd: repo.path });
  git("init", "-q", "-b", "main");
  writeFileSync(path.join(repo.path, "blob.bin"), randomBytes(3 * 1024 * 1024));
  git("add", ".");
  git("commit", "-q", "-m", "big");
  server = await startTestServer({
    env: { CIAB_RUNTIME_ENABLED: "local", CIAB_POLICY_ALLOW_LOCAL_REPOS: "true", CIAB_POLICY_MAX_REPO_MB: "1" },
  });
  const member = await server.api("POST", "/workspaces", { name: "team-repo", role: "member" });
  ciab = new Ciab({ url: server.url, token: member.body.token });
});

afterAll(async () => {
  await server?.close();
  repo.remove();
});

test("a repository larger than [policy] max_repo_mb fails its session instead of filling the host's disk", async () => {
  const created = await ciab.sessions.create({ runtime: "local", provider: "shell", prompt: "ls -la", repo: { url: repo.path } });
  const events: SessionEvent[] = [];
  for await (const event of ciab.sessions.follow(created.id)) events.push(event);
  const session = await ciab.sessions.get(created.id);
  expect(session.state).toBe("failed");
  expect(session.failure?.message).toContain("max_repo_mb");
});
