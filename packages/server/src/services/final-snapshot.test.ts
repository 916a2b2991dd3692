import { describe, expect, test } from "vitest";
import { CiabError } from "@ciab/protocol";
import type { SandboxRecord } from "../store/records.js";
import { takeFinalSnapshot } from "./final-snapshot.js";

const sandbox = { id: "sbx_1", workspaceID: "ws_1", userID: "usr_1" } as SandboxRecord;

describe("takeFinalSnapshot", () => {
  test("answers the snapshot and its label", async () => {
    const outcome = await takeFinalSnapshot(async (_, label) => `snap_for ${label}`, sandbox, "idle_timeout", 1_000);
    expect(outcome).toEqual({ snapshotID: "snap_for auto-snapshot (idle_timeout)", label: "auto-snapshot (idle_timeout)", why: "idle_timeout" });
  });

  test("a taker that never answers nor honours its signal is abandoned at the bound", async () => {
    const started = Date.now();
    let signal: AbortSignal | undefined;
    const outcome = await takeFinalSnapshot((_, __, given) => ((signal = given), new Promise<string>(() => undefined)), sandbox, "max_runtime", 200);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(outcome).toMatchObject({ why: "max_runtime", error: { code: "request_timeout" } });
    expect(signal?.aborted).toBe(true);
  });

  test("failures keep their code", async () => {
    const outcome = await takeFinalSnapshot(async () => Promise.reject(new CiabError("artifact_store_unavailable", "down")), sandbox, "session_end", 1_000);
    expect(outcome).toMatchObject({ error: { code: "artifact_store_unavailable" } });
  });
});
