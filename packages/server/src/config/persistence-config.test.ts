import { writeFileSync } from "node:fs";
import path from "node:path";
import { expect, test } from "vitest";
import { makeTempDirectory } from "../../../../test/harness/temp-directory.js";
import { loadConfig } from "./load-config.js";
import { defaultPersistenceFor } from "./persistence-default.js";

test("[runtime] persistence: a default, an env variable, per-workspace overrides in config.toml, bad modes named", () => {
  const defaults = loadConfig({ env: {} }).runtime;
  expect([defaults.persistence, defaults.final_snapshot_timeout_seconds]).toEqual(["ephemeral", 600]);
  expect(defaultPersistenceFor(loadConfig({ env: { CIAB_RUNTIME_PERSISTENCE: "snapshot-on-idle" } }).runtime, "ws_any")).toBe("snapshot-on-idle");
  const directory = makeTempDirectory();
  try {
    const file = path.join(directory.path, "config.toml");
    writeFileSync(file, '[runtime]\npersistence = "snapshot-on-idle"\n[runtime.workspaces.ws_keep]\npersistence = "persistent-volume"\n');
    const runtime = loadConfig({ configPath: file, env: {} }).runtime;
    expect(defaultPersistenceFor(runtime, "ws_keep")).toBe("persistent-volume");
    expect(defaultPersistenceFor(runtime, "ws_other")).toBe("snapshot-on-idle");
    writeFileSync(file, '[runtime.workspaces.ws_keep]\npersistence = "forever"\n');
    expect(() => loadConfig({ configPath: file, env: {} })).toThrow(/runtime\.workspaces/);
  } finally {
    directory.remove();
  }
  expect(() => loadConfig({ env: { CIAB_RUNTIME_PERSISTENCE: "kept" } })).toThrow(/runtime\.persistence|CIAB_RUNTIME_PERSISTENCE/);
});
