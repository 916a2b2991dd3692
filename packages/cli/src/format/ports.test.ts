import { expect, test } from "vitest";
import { formatSessionPorts } from "./ports.js";

test("ports print as a table with their URLs; none says so", () => {
  expect(formatSessionPorts([])).toBe("no ports listening");
  const text = formatSessionPorts([{ port: 3000, url: "http://h/sandbox/preview/ses_a/3000/?token=t", expires_at: "2026-01-01T00:00:00.000Z" }]);
  expect(text.split("\n")).toEqual([
    "PORT  URL                                           EXPIRES",
    "3000  http://h/sandbox/preview/ses_a/3000/?token=t  2026-01-01T00:00:00.000Z",
  ]);
});
