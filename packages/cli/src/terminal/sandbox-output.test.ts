import { expect, test } from "vitest";
import { createSandboxOutput, terminalText, type OutputStream } from "./sandbox-output.js";

function recorder(isTTY: boolean): OutputStream & { written: Buffer[] } {
  const written: Buffer[] = [];
  return { isTTY, written, write: (chunk) => (written.push(Buffer.from(chunk)), true) };
}

const hostile = Buffer.from("\u001b]0;title\u0007\u001b[31mred\u001b[0m \u001b[2J✓\n");

test("on a terminal: filtered, with UTF-8 and escapes split across chunks", () => {
  const target = recorder(true);
  const output = createSandboxOutput(target);
  for (let index = 0; index < hostile.length; index += 3) output.write(hostile.subarray(index, index + 3));
  output.end();
  expect(Buffer.concat(target.written).toString()).toBe("\u001b[31mred\u001b[0m ✓\n");
});

test("to a pipe or a file: byte for byte", () => {
  const target = recorder(false);
  const output = createSandboxOutput(target);
  output.write(hostile);
  output.end();
  expect(Buffer.concat(target.written)).toEqual(hostile);
  expect(terminalText(target, "\u001b[2Jx")).toBe("\u001b[2Jx");
  expect(terminalText(recorder(true), "\u001b[2Jx")).toBe("x");
});
