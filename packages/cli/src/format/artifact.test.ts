import { expect, test } from "vitest";
import type { Artifact } from "@ciab/protocol";
import { formatArtifactTable, formatSnapshotTable } from "./artifact.js";
import { formatBytes } from "./bytes.js";

const artifact: Artifact = {
  id: "art_1",
  path: "/workspace/out/report.txt",
  name: "report.txt",
  mime: "text/plain",
  description: null,
  size: 1536,
  sha256: "ab",
  session_id: null,
  sandbox_id: "sbx_1",
  user_id: "usr_1",
  scan: { status: "infected", signature: "Eicar" },
  created_at: "2026-01-01T00:00:00.000Z",
};

test("sizes in binary units", () => {
  expect([formatBytes(0), formatBytes(1023), formatBytes(1536), formatBytes(20 * 1024 * 1024)]).toEqual(["0 B", "1023 B", "1.5 KiB", "20.0 MiB"]);
});

test("artifact and snapshot tables", () => {
  expect(formatArtifactTable([])).toBe("no artifacts");
  expect(formatArtifactTable([artifact]).split("\n")[1]).toBe(
    "art_1  report.txt  1.5 KiB  infected (Eicar)  -        2026-01-01T00:00:00.000Z",
  );
  expect(formatSnapshotTable([{ id: "snap_1", label: null, size: 10, sha256: "", session_id: null, sandbox_id: "sbx_1", user_id: "u", created_at: "t" }])).toBe(
    "ID      LABEL  SIZE  SANDBOX  CREATED\nsnap_1  -      10 B  sbx_1    t",
  );
});
