import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { PathResolver } from "./path-resolver.js";

let directory: string;
let root: string;
let paths: PathResolver;

beforeAll(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), "ciab-paths-"));
  root = path.join(directory, "ws");
  await mkdir(path.join(root, "src"), { recursive: true });
  await writeFile(path.join(directory, "secret"), "outside");
  await symlink("/etc", path.join(root, "evil"));
  await symlink("src", path.join(root, "inside"));
  await symlink(path.join(directory, "not-yet"), path.join(root, "dangling"));
  paths = await PathResolver.create(root);
});

afterAll(() => rm(directory, { recursive: true, force: true }));

const code = (promise: Promise<unknown>) => promise.then(() => "ok", (error: { code: string }) => error.code);

describe("PathResolver", () => {
  test("maps absolute and relative sandbox paths into the root", () => {
    expect(paths.map("/workspace")).toEqual({ sandboxPath: "/workspace", hostPath: root });
    expect(paths.map("src/a.ts")).toEqual({ sandboxPath: "/workspace/src/a.ts", hostPath: path.join(root, "src/a.ts") });
    expect(paths.map("/workspace/src/../b")).toEqual({ sandboxPath: "/workspace/b", hostPath: path.join(root, "b") });
  });

  test("refuses lexical escapes and invalid paths", () => {
    expect(() => paths.map("../secret")).toThrow(expect.objectContaining({ code: "path_outside_sandbox" }));
    expect(() => paths.map("/workspace/../etc/passwd")).toThrow(expect.objectContaining({ code: "path_outside_sandbox" }));
    expect(() => paths.map("/etc/passwd")).toThrow(expect.objectContaining({ code: "path_outside_sandbox" }));
    expect(() => paths.map("/workspacex/a")).toThrow(expect.objectContaining({ code: "path_outside_sandbox" }));
    expect(() => paths.map("")).toThrow(expect.objectContaining({ code: "invalid_path" }));
    expect(() => paths.map("a\0b")).toThrow(expect.objectContaining({ code: "invalid_path" }));
  });

  test("follows symlinks and refuses those that leave the root", async () => {
    expect(await code(paths.follow("evil/passwd"))).toBe("path_outside_sandbox");
    expect(await code(paths.follow("evil/new-file"))).toBe("path_outside_sandbox");
    expect(await code(paths.follow("dangling"))).toBe("path_outside_sandbox");
    expect((await paths.follow("inside/new/deeper")).realPath).toBe(path.join(paths.root, "src/new/deeper"));
  });

  test("parent() leaves the last component alone so links can be inspected and removed", async () => {
    expect((await paths.parent("evil")).realPath).toBe(path.join(paths.root, "evil"));
    expect(await code(paths.parent("evil/passwd"))).toBe("path_outside_sandbox");
  });
});
