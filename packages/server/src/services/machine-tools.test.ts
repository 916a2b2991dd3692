import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { makeTempDirectory } from "../../../../test/harness/temp-directory.js";
import { packageClosure } from "./machine-tools.js";

describe("packageClosure", () => {
  test("follows dependencies from the nearest node_modules up, and leaves out what npm did not install", async () => {
    const directory = makeTempDirectory("ciab-closure-");
    try {
      const packages = {
        "": { dependencies: { cli: "1", other: "1" } },
        "node_modules/cli": { dependencies: { a: "1", b: "2" }, optionalDependencies: { "cli-win32": "1" } },
        "node_modules/cli-win32": {},
        "node_modules/a": { dependencies: { b: "1" } },
        "node_modules/b": {},
        "node_modules/cli/node_modules/b": { dependencies: { c: "1" } },
        "node_modules/c": {},
        "node_modules/other": {},
      };
      for (const entry of Object.keys(packages).filter((key) => key !== "" && key !== "node_modules/cli-win32")) {
        mkdirSync(path.join(directory.path, entry), { recursive: true });
      }
      writeFileSync(path.join(directory.path, "package-lock.json"), JSON.stringify({ packages }));
      expect(await packageClosure(directory.path, "cli")).toEqual([
        "node_modules/a",
        "node_modules/b",
        "node_modules/c",
        "node_modules/cli",
        "node_modules/cli/node_modules/b",
      ]);
      await expect(packageClosure(directory.path, "absent")).rejects.toMatchObject({ code: "runtime_error" });
    } finally {
      directory.remove();
    }
  });
});
