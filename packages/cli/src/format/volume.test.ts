import type { Volume } from "@ciab/protocol";
import { describe, expect, it } from "vitest";
import { formatVolumeTable } from "./volume.js";

const volume: Volume = {
  id: "vol_01",
  runtime: "docker",
  user_id: "usr_1",
  state: "available",
  sandbox_id: null,
  size_gib: null,
  created_at: "2025-01-01T00:00:00.000Z",
  last_used_at: null,
};

describe("formatVolumeTable", () => {
  it("shows each volume and who mounts it", () => {
    expect(formatVolumeTable([volume, { ...volume, id: "vol_02", state: "in_use", sandbox_id: "sbx_9", size_gib: 20, last_used_at: "2025-01-02T00:00:00.000Z" }])).toBe(
      [
        "ID      RUNTIME  USER   SIZE    STATE            LAST USED",
        "vol_01  docker   usr_1  -       available        never",
        "vol_02  docker   usr_1  20 GiB  in use by sbx_9  2025-01-02T00:00:00.000Z",
      ].join("\n"),
    );
  });

  it("says when there are none", () => {
    expect(formatVolumeTable([])).toBe("no volumes");
  });
});
