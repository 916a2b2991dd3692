import { describe, expect, test } from "vitest";
import { createTerminalTextFilter, stripControlSequences } from "./terminal-text.js";

const ESC = "\u001b";

describe("stripControlSequences keeps colour and text, and nothing that drives the terminal", () => {
  test.each([
    ["plain text", "hello\tworld\n", "hello\tworld\n"],
    ["colours and styles", `${ESC}[1;31mred${ESC}[0m ${ESC}[38;5;208mo${ESC}[m ${ESC}[38;2;1;2;3mrgb${ESC}[39m`, `${ESC}[1;31mred${ESC}[0m ${ESC}[38;5;208mo${ESC}[m ${ESC}[38;2;1;2;3mrgb${ESC}[39m`],
    ["an extended colour whose component is 8", `${ESC}[38;2;8;8;8mx`, `${ESC}[38;2;8;8;8mx`],
    ["conceal", `${ESC}[8mhidden${ESC}[0m`, `hidden${ESC}[0m`],
    ["window title (OSC 0, BEL)", `${ESC}]0;owned${"\u0007"}after`, "after"],
    ["clipboard write (OSC 52, ST)", `${ESC}]52;c;cm0gLXJmIH4=${ESC}\\after`, "after"],
    ["hyperlink (OSC 8)", `${ESC}]8;;http://evil/${ESC}\\text${ESC}]8;;${ESC}\\`, "text"],
    ["DCS", `${ESC}Pq#0;2;0;0;0${ESC}\\after`, "after"],
    ["APC, PM, SOS", `${ESC}_x${ESC}\\a${ESC}^y${ESC}\\b${ESC}Xz${ESC}\\c`, "abc"],
    ["cursor moves and erases", `one${ESC}[2A${ESC}[10;5H${ESC}[2J${ESC}[Ktwo`, "onetwo"],
    ["private modes: bracketed paste, alternate screen, mouse", `${ESC}[?2004h${ESC}[?1049h${ESC}[?1000ha`, "a"],
    ["a colour with a private marker", `${ESC}[>4;2mx`, "x"],
    ["device queries that would answer into the input", `${ESC}[6n${ESC}[c${ESC}]11;?${"\u0007"}x`, "x"],
    ["two-character escapes and charset switches", `${ESC}7${ESC}8${ESC}c${ESC}(0${ESC}#8x`, "x"],
    ["C1 controls (CSI, OSC as single code points)", "\u009b2J\u009d0;t\u009cx\u0085y", "xy"],
    ["a C1 CSI is never kept, even as a colour", "\u009b31mred", "red"],
    ["backspace, bell, DEL, NUL, vertical tab, form feed", "a\bb\u0007c\u007fd\u0000e\u000bf\u000cg", "abcdefg"],
    ["a lone carriage return cannot print over a line", "safe\rrm -rf ~\r\nok\r", "safe\nrm -rf ~\nok\n"],
    ["an overlong CSI is dropped whole, text after it kept", `${ESC}[${"1;".repeat(100)}mtext`, "text"],
    ["an escape cut by a control character", `${ESC}[31\nx`, "\nx"],
    ["non-ASCII text", "héllo ✓ 日本", "héllo ✓ 日本"],
  ])("%s", (_, input, expected) => {
    expect(stripControlSequences(input)).toBe(expected);
  });
});

test("a sequence split across writes is still recognised", () => {
  const filter = createTerminalTextFilter();
  const pieces = [`a${ESC}`, "]0;ti", `tle${ESC}`, "\\b", `${ESC}[3`, "1mc", `${ESC}[2`, "Jd\r", "\ne"];
  expect(pieces.map((piece) => filter.write(piece)).join("") + filter.end()).toBe(`ab${ESC}[31mcd\ne`);
});

test("an unfinished sequence at the end is dropped", () => {
  const filter = createTerminalTextFilter();
  expect(filter.write(`x${ESC}]0;never ends`) + filter.end()).toBe("x");
  expect(filter.write("y")).toBe("y");
});
