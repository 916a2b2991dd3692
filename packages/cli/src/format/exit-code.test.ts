import { describe, expect, it } from "vitest";
import { exitCodeOf } from "./exit-code.js";

describe("exitCodeOf", () => {
  const result = { exit_code: null, signal: null, timed_out: false };

  it("passes the command's exit code through", () => {
    expect(exitCodeOf({ ...result, exit_code: 0 })).toBe(0);
    expect(exitCodeOf({ ...result, exit_code: 7 })).toBe(7);
  });

  it("gives 128 + the signal number when a signal killed it", () => {
    expect(exitCodeOf({ ...result, signal: "SIGKILL" })).toBe(137);
    expect(exitCodeOf({ ...result, signal: "SIGTERM" })).toBe(143);
    expect(exitCodeOf({ ...result, signal: "SIGINT" })).toBe(130);
    expect(exitCodeOf({ ...result, signal: "SIGNOPE" })).toBe(128);
  });

  it("gives 124 on timeout, whatever killed it", () => {
    expect(exitCodeOf({ exit_code: null, signal: "SIGKILL", timed_out: true })).toBe(124);
  });

  it("falls back to 1 when there is neither code nor signal", () => {
    expect(exitCodeOf(result)).toBe(1);
  });
});
