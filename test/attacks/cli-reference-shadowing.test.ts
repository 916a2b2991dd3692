import { expect, test } from "vitest";
import { matchReference } from "../../packages/cli/src/resolve/match-reference.js";

/**
 * Anyone in a workspace names their sandboxes as they like. A colleague who names theirs after the prefix of
 * my sandbox's id would get what I meant for mine (`exec -i` input, a `cp` upload) when I type that prefix.
 */
test("a sandbox named after another sandbox's id prefix does not take that prefix over", () => {
  const candidates = [
    { id: "sbx_01j9z3k8x2m4n6p8r0t2v4w6y8", name: "mine", live: true },
    { id: "sbx_01jaaaaaaaaaaaaaaaaaaaaaaa", name: "01j9z3", live: true },
  ];
  expect(() => matchReference("01j9z3", "sbx_", candidates)).toThrow(/matches 2 sandboxes/);
  expect(() => matchReference("sbx_01j9z3", "sbx_", [...candidates, { id: "sbx_01jbbbbbbbbbbbbbbbbbbbbbbb", name: "sbx_01j9z3", live: true }])).toThrow(
    /matches 2 sandboxes/,
  );
  // A whole id always means that sandbox, and a name that is no one's id prefix still resolves.
  expect(matchReference("sbx_01j9z3k8x2m4n6p8r0t2v4w6y8", "sbx_", candidates)).toBe("sbx_01j9z3k8x2m4n6p8r0t2v4w6y8");
  expect(matchReference("mine", "sbx_", candidates)).toBe("sbx_01j9z3k8x2m4n6p8r0t2v4w6y8");
});
