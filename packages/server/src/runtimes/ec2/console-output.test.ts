import { describe, expect, it } from "vitest";
import { maximumConsoleOutputBytes } from "../runtime.js";
import { decodeConsoleOutput } from "./console-output.js";

describe("decodeConsoleOutput", () => {
  it("decodes AWS's base64 and answers nothing for an instance without output", () => {
    expect(decodeConsoleOutput(Buffer.from("Linux version 6.1\n").toString("base64"))).toBe("Linux version 6.1\n");
    expect(decodeConsoleOutput(undefined)).toBe("");
  });

  it("keeps only the last 64 KiB of a huge answer, whatever its length mod 3", () => {
    for (const extra of [0, 1, 2]) {
      const text = `${"a".repeat(3 * maximumConsoleOutputBytes + extra)}THE END`;
      const decoded = decodeConsoleOutput(Buffer.from(text).toString("base64"));
      expect(decoded).toHaveLength(maximumConsoleOutputBytes);
      expect(decoded.endsWith("aTHE END")).toBe(true);
    }
  });
});
