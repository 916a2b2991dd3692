import type { Sandbox } from "@ciab/protocol";
import { describe, expect, it } from "vitest";
import { formatAge } from "./age.js";
import { formatProgress, formatSandboxSummary, formatSandboxTable, formatTags } from "./sandbox.js";

const sandbox: Sandbox = {
  id: "sbx_01",
  name: "web",
  state: "ready",
  runtime: "docker",
  image: "node:20",
  network: "none",
  tags: {},
  env_keys: [],
  resources: {},
  failure: null,
  status_message: null,
  created_at: "2025-01-01T00:00:00.000Z",
  updated_at: "2025-01-01T00:00:00.000Z",
  ready_at: "2025-01-01T00:00:01.000Z",
  cost_usd: 0.0123,
  end_reason: null,
  timeout_secs: 300,
  on_timeout: "pause",
  expires_at: "2025-01-01T00:05:01.000Z",
  delete_after: null,
  persistence: "ephemeral",
  volume_id: null,
  final_snapshot_id: null,
};
const now = Date.parse("2025-01-01T00:05:30.000Z");

describe("formatSandboxSummary", () => {
  it("shows id, name, state, runtime and image", () => {
    expect(formatSandboxSummary(sandbox)).toBe(
      [
        "id       sbx_01",
        "name     web",
        "state    ready",
        "runtime  docker",
        "image    node:20",
        "cost     $0.0123",
        "timeout  5m, then pause",
        "expires  2025-01-01T00:05:01.000Z",
      ].join("\n"),
    );
  });

  it("shows a persistence other than ephemeral, its volume and its last snapshot", () => {
    const kept = { ...sandbox, state: "terminated" as const, persistence: "persistent-volume" as const, volume_id: "vol_1", final_snapshot_id: "snap_1" };
    expect(formatSandboxSummary(kept).split("\n").slice(-3)).toEqual(["persistence  persistent-volume", "volume       vol_1", "saved as     snap_1"]);
  });

  it("adds the failure when there is one", () => {
    const failure = { reason: "provision_failed", message: "no image" };
    const failed: Sandbox = { ...sandbox, state: "failed", failure };
    expect(formatSandboxSummary(failed)).toContain("failure  no image (provision_failed)");
  });

  it("shows AWS's own code of a failed cloud call", () => {
    const failure = { reason: "provision_failed", message: "ec2: RunInstances: no subnet", aws_code: "InvalidSubnetID.NotFound" };
    expect(formatSandboxSummary({ ...sandbox, state: "failed", failure })).toMatch(/aws code\s+InvalidSubnetID.NotFound/);
  });

  it("says when the budget ended it", () => {
    const ended: Sandbox = { ...sandbox, state: "terminated", end_reason: "max_runtime" };
    expect(formatSandboxSummary(ended)).toContain("ended by  max_runtime");
  });

  it("says when a paused sandbox is deleted", () => {
    const paused: Sandbox = { ...sandbox, state: "paused", expires_at: null, delete_after: "2025-01-02T00:00:00.000Z" };
    expect(formatSandboxSummary(paused)).toContain("deletes  2025-01-02T00:00:00.000Z");
  });
});

describe("formatSandboxTable", () => {
  it("prints a row per sandbox with its age", () => {
    const tagged = { ...sandbox, id: "sbx_02", name: "api", state: "paused" as const, tags: { team: "a", ci: "1" } };
    expect(formatSandboxTable([sandbox, tagged], now)).toBe(
      [
        "ID      NAME  STATE   RUNTIME  IMAGE    AGE  COST     TAGS",
        "sbx_01  web   ready   docker   node:20  5m   $0.0123",
        "sbx_02  api   paused  docker   node:20  5m   $0.0123  ci=1,team=a",
      ].join("\n"),
    );
  });

  it("cuts long tags with an ellipsis", () => {
    const tags = { description: "x".repeat(60) };
    expect(formatTags(tags)).toHaveLength(40);
    expect(formatTags(tags).endsWith("…")).toBe(true);
  });

  it("says so when there are none", () => {
    expect(formatSandboxTable([], now)).toBe("no sandboxes");
  });
});

describe("formatProgress", () => {
  it("shows the state and the status message", () => {
    expect(formatProgress({ ...sandbox, state: "provisioning", status_message: "starting agentd" })).toBe(
      "provisioning: starting agentd",
    );
    expect(formatProgress({ ...sandbox, state: "pending" })).toBe("pending");
  });
});

describe("formatAge", () => {
  it("uses the largest whole unit", () => {
    const start = "2025-01-01T00:00:00.000Z";
    const at = (seconds: number): string => formatAge(start, Date.parse(start) + seconds * 1000);
    expect(at(0)).toBe("0s");
    expect(at(59)).toBe("59s");
    expect(at(60)).toBe("1m");
    expect(at(3600 * 47)).toBe("47h");
    expect(at(3600 * 72)).toBe("3d");
    expect(at(-5)).toBe("0s");
    expect(formatAge("not a date", now)).toBe("");
  });
});
