import { describe, expect, it } from "vitest";
import { matchReference, ReferenceNotFoundError } from "./match-reference.js";

const candidates = [
  { id: "sbx_01aaaa", name: "web", live: true },
  { id: "sbx_01aabb", name: "db", live: true },
  { id: "sbx_01cccc", name: "web", live: false },
  { id: "sbx_02dddd", name: "old", live: false },
];

describe("matchReference", () => {
  it("takes a whole id, a name (live first) or a unique id prefix with or without sbx_", () => {
    expect(matchReference("sbx_01aabb", "sbx_", candidates)).toBe("sbx_01aabb");
    expect(matchReference("web", "sbx_", candidates)).toBe("sbx_01aaaa");
    expect(matchReference("old", "sbx_", candidates)).toBe("sbx_02dddd");
    expect(matchReference("01c", "sbx_", candidates)).toBe("sbx_01cccc");
    expect(matchReference("sbx_02", "sbx_", candidates)).toBe("sbx_02dddd");
  });

  it("refuses an ambiguous prefix, listing the candidates", () => {
    expect(() => matchReference("01a", "sbx_", candidates)).toThrow(
      '"01a" matches 2 sandboxes; use more of the id:\n  sbx_01aaaa (web)\n  sbx_01aabb (db)',
    );
  });

  it("says when nothing matches", () => {
    expect(() => matchReference("zz", "sbx_", candidates)).toThrow(ReferenceNotFoundError);
  });
});
