import { describe, expect, it } from "vitest";
import { collect, parseKeyValues, parseTagFilters } from "./key-value.js";

describe("parseKeyValues", () => {
  it("splits at the first =", () => {
    expect(parseKeyValues(["A=1", "B=x=y", "C="], "--env")).toEqual({ A: "1", B: "x=y", C: "" });
  });

  it("names the flag when a pair has no key", () => {
    expect(() => parseKeyValues(["novalue"], "--tag")).toThrow('--tag expects KEY=VALUE, got "novalue"');
    expect(() => parseKeyValues(["=v"], "--env")).toThrow(/--env/);
  });

  it("collects repeated options", () => {
    expect(collect("b", collect("a"))).toEqual(["a", "b"]);
  });
});

describe("parseTagFilters", () => {
  it("takes KEY=VALUE for that value and KEY alone for any value", () => {
    expect(parseTagFilters(["team=web", "ci", "url=a=b"])).toEqual({ team: "web", ci: null, url: "a=b" });
    expect(() => parseTagFilters(["=v"])).toThrow(/--tag/);
  });
});
