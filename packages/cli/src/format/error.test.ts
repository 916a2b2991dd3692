import { describe, expect, it } from "vitest";
import { errorOutput, formatError } from "./error.js";

class CodedError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly context?: Record<string, unknown>,
  ) {
    super(message);
  }
}

describe("formatError", () => {
  it("prints the message and the code", () => {
    expect(formatError(new CodedError("no sandbox sbx_1", "sandbox_not_found"))).toBe(
      "error: no sandbox sbx_1 (sandbox_not_found)",
    );
  });

  it("leaves the code out when there is none", () => {
    expect(formatError(new Error("boom"))).toBe("error: boom");
    expect(formatError("plain")).toBe("error: plain");
  });
});

describe("errorOutput", () => {
  it("has the API's shape, context included", () => {
    expect(errorOutput(new CodedError("failed", "sandbox_failed", { sandbox_id: "sbx_1" }))).toEqual({
      error: { code: "sandbox_failed", message: "failed", context: { sandbox_id: "sbx_1" } },
    });
  });
});
