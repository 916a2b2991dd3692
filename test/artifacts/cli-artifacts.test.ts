import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { makeTempDirectory } from "../harness/temp-directory.js";
import { startServerProcess, type ServerProcess } from "../harness/server-process.js";

const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "packages", "cli", "bin", "ciab.mjs");

/** `ciab artifact …` and `ciab snapshot …` through the SDK against a server process. */
describe("ciab artifact and ciab snapshot", () => {
  const data = makeTempDirectory("ciab-cli-art-");
  const work = makeTempDirectory("ciab-cli-art-work-");
  let server: ServerProcess;
  const sandboxes: string[] = [];
  const ciab = (args: string[]) => {
    const result = spawnSync(process.execPath, [cli, ...args], {
      env: { ...process.env, CIAB_DATA_DIR: data.path, CIAB_URL: "", CIAB_TOKEN: "" },
      cwd: work.path,
      encoding: "utf8",
      timeout: 60_000,
    });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  };
  const json = (args: string[]) => {
    const result = ciab([...args, "--json"]);
    expect(result.code, result.stderr).toBe(0);
    return JSON.parse(result.stdout);
  };

  beforeAll(async () => {
    server = await startServerProcess(data.path);
  });
  afterAll(async () => {
    for (const id of sandboxes) ciab(["sandbox", "rm", id]);
    await server?.kill("SIGTERM");
    data.remove();
    work.remove();
  });

  test("publish, list, get, download, rm", () => {
    const sandbox = json(["sandbox", "create"]).id as string;
    sandboxes.push(sandbox);
    expect(ciab(["sandbox", "exec", sandbox, "--", "sh", "-c", "echo report > report.txt"]).code).toBe(0);
    const artifact = json(["artifact", "publish", "report.txt", "--sandbox", sandbox, "--description", "a report"]);
    expect(artifact).toMatchObject({ name: "report.txt", size: 7, description: "a report" });
    expect(ciab(["artifact", "list"]).stdout).toContain(artifact.id);
    expect(json(["artifact", "get", artifact.id]).sha256).toBe(artifact.sha256);
    expect(ciab(["artifact", "download", artifact.id]).code).toBe(0);
    expect(readFileSync(path.join(work.path, "report.txt"), "utf8")).toBe("report\n");
    expect(ciab(["artifact", "download", artifact.id, "-o", "-"]).stdout).toBe("report\n");
    expect(ciab(["artifact", "rm", artifact.id]).code).toBe(0);
    const missing = ciab(["artifact", "get", artifact.id]);
    expect(missing.code).toBe(125);
    expect(missing.stderr).toContain("not_found");
    const outside = ciab(["artifact", "publish", "/etc/passwd", "--sandbox", sandbox]);
    expect([outside.code, outside.stderr.includes("path_outside_sandbox")]).toEqual([125, true]);
  });

  test("snapshot create, list, restore, rm", () => {
    const sandbox = json(["sandbox", "create"]).id as string;
    sandboxes.push(sandbox);
    expect(ciab(["sandbox", "exec", sandbox, "--", "sh", "-c", "mkdir -p keep && echo kept > keep/file"]).code).toBe(0);
    const snapshot = json(["snapshot", "create", "--sandbox", sandbox, "--label", "cli"]);
    expect(snapshot).toMatchObject({ label: "cli", sandbox_id: sandbox });
    expect(ciab(["snapshot", "list"]).stdout).toContain(snapshot.id);
    const restored = json(["snapshot", "restore", snapshot.id]).id as string;
    sandboxes.push(restored);
    expect(ciab(["sandbox", "exec", restored, "--", "cat", "keep/file"]).stdout).toBe("kept\n");
    expect(ciab(["snapshot", "rm", snapshot.id]).code).toBe(0);
    expect(ciab(["snapshot", "restore", snapshot.id]).stderr).toContain("not_found");
  });
});
