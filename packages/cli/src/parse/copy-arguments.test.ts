import { describe, expect, it } from "vitest";
import { joinIntoDirectory, parseCopyArguments, parseCopyTarget } from "./copy-arguments.js";

describe("parseCopyTarget", () => {
  it("reads ID:/path as a sandbox path", () => {
    expect(parseCopyTarget("sbx_01abc:/workspace/a.txt")).toEqual({
      kind: "sandbox",
      sandboxID: "sbx_01abc",
      path: "/workspace/a.txt",
    });
    expect(parseCopyTarget("my-box:rel/a.txt")).toEqual({ kind: "sandbox", sandboxID: "my-box", path: "rel/a.txt" });
    expect(parseCopyTarget("sbx_1:/a:b")).toEqual({ kind: "sandbox", sandboxID: "sbx_1", path: "/a:b" });
  });

  it("keeps paths that start with / or . local, colons and all", () => {
    expect(parseCopyTarget("./a:b")).toEqual({ kind: "file", path: "./a:b" });
    expect(parseCopyTarget("/tmp/a:b")).toEqual({ kind: "file", path: "/tmp/a:b" });
    expect(parseCopyTarget("plain.txt")).toEqual({ kind: "file", path: "plain.txt" });
  });

  it("reads - as stdin or stdout", () => {
    expect(parseCopyTarget("-")).toEqual({ kind: "stdio" });
  });

  it("refuses a sandbox id without a path", () => {
    expect(() => parseCopyTarget("sbx_1:")).toThrow(/names no path/);
  });
});

describe("parseCopyArguments", () => {
  it("uploads when the destination is in a sandbox", () => {
    expect(parseCopyArguments("./local.txt", "sbx_1:/workspace/")).toEqual({
      direction: "upload",
      from: { kind: "file", path: "./local.txt" },
      to: { kind: "sandbox", sandboxID: "sbx_1", path: "/workspace/" },
    });
    expect(parseCopyArguments("-", "sbx_1:a")).toMatchObject({ direction: "upload", from: { kind: "stdio" } });
  });

  it("downloads when the source is in a sandbox", () => {
    expect(parseCopyArguments("sbx_1:/workspace/out.log", "-")).toEqual({
      direction: "download",
      from: { kind: "sandbox", sandboxID: "sbx_1", path: "/workspace/out.log" },
      to: { kind: "stdio" },
    });
  });

  it("needs exactly one sandbox side", () => {
    expect(() => parseCopyArguments("a", "b")).toThrow(/must be a sandbox path/);
    expect(() => parseCopyArguments("-", "-")).toThrow(/must be a sandbox path/);
    expect(() => parseCopyArguments("sbx_1:/a", "sbx_2:/b")).toThrow(/between two sandboxes/);
  });
});

describe("joinIntoDirectory", () => {
  it("appends the source's base name", () => {
    expect(joinIntoDirectory("/workspace", "./dir/a.txt")).toBe("/workspace/a.txt");
    expect(joinIntoDirectory("/workspace/", "/tmp/a.txt")).toBe("/workspace/a.txt");
    expect(joinIntoDirectory("out", "/workspace/logs/")).toBe("out/logs");
  });
});
