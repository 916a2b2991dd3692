import { describe, expect, it } from "vitest";
import { formatFields, formatTable } from "./table.js";

describe("formatTable", () => {
  it("pads columns to the widest cell and trims line ends", () => {
    expect(formatTable(["ID", "STATE"], [["sbx_1", "ready"], ["sbx_22222", ""]])).toBe(
      ["ID         STATE", "sbx_1      ready", "sbx_22222"].join("\n"),
    );
  });

  it("prints only the header when there are no rows, and tolerates short rows", () => {
    expect(formatTable(["A", "B"], [])).toBe("A  B");
    expect(formatTable(["A", "B"], [["x"]])).toBe("A  B\nx");
  });
});

describe("formatFields", () => {
  it("aligns labels", () => {
    expect(formatFields([["id", "sbx_1"], ["runtime", "local"]])).toBe("id       sbx_1\nruntime  local");
  });
});
