import { describe, expect, test } from "vitest";
import type { ImageBuild } from "@ciab/sdk";
import { formatBuildProgress, formatImageTable, parseVars } from "./image.js";

const build: ImageBuild = {
  id: "bld_1",
  state: "building",
  runtime: "ec2",
  provider: "claude-code",
  region: "us-east-1",
  instance_type: "t3.medium",
  template: "builtin://default-ec2",
  vars: {},
  step: "amazon-ebs.default: Launching a source AWS instance...",
  percent: 50,
  image_id: null,
  error: null,
  created_at: "2026-01-01T00:00:00Z",
  started_at: null,
  finished_at: null,
};

describe("image formatting", () => {
  test("progress bar", () => {
    expect(formatBuildProgress(build, 10)).toBe("[#####-----]  50%  building: amazon-ebs.default: Launching a source AWS instance...");
    expect(formatBuildProgress({ ...build, state: "succeeded", percent: null, step: null }, 4)).toBe("[####] 100%  succeeded");
  });

  test("--var pairs", () => {
    expect(parseVars(["a=1", "b=x=y", "c="])).toEqual({ a: "1", b: "x=y", c: "" });
    expect(parseVars(["novalue"])).toMatch(/expected key=value/);
    expect(parseVars(["=1"])).toMatch(/expected key=value/);
    expect(parseVars(["bad key=1"])).toMatch(/not a variable name/);
  });

  test("empty list", () => {
    expect(formatImageTable([])).toBe("no images");
  });
});
