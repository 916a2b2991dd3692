import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createShellParser } from "./shell-parser.js";

describe("shell parser", () => {
  it("passes every line on as stdout bytes, so the output reassembles exactly", () => {
    const output = readFileSync(new URL("./__fixtures__/shell-script-output.txt", import.meta.url), "utf8");
    const parser = createShellParser();
    const events = output.replace(/\n$/, "").split("\n").flatMap((line) => parser.parseLine(line));
    expect(events).toHaveLength(5);
    expect(events.every((event) => event.type === "shell.output" && event.data.stream === "stdout")).toBe(true);
    const bytes = events.map((event) => Buffer.from(event.data.data as string, "base64").toString("utf8")).join("");
    expect(bytes).toBe(output);
    expect(parser.finish()).toEqual([]);
  });
});
