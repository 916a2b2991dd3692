import { existsSync, readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { refusedSyscalls, seccompProgram } from "./seccomp-filter.js";

interface Instruction {
  code: number;
  jumpTrue: number;
  jumpFalse: number;
  k: number;
}

function decode(program: Buffer): Instruction[] {
  const instructions: Instruction[] = [];
  for (let offset = 0; offset < program.length; offset += 8) {
    instructions.push({
      code: program.readUInt16LE(offset),
      jumpTrue: program.readUInt8(offset + 2),
      jumpFalse: program.readUInt8(offset + 3),
      k: program.readUInt32LE(offset + 4),
    });
  }
  return instructions;
}

/** Runs the classic-BPF program on one seccomp_data, the way the kernel would; answers the return value. */
function evaluate(program: Instruction[], data: { nr: number; arch: number; firstArgument?: number }): number {
  const words = new Map([[0, data.nr >>> 0], [4, data.arch >>> 0], [16, (data.firstArgument ?? 0) >>> 0]]);
  let accumulator = 0;
  for (let index = 0; index < program.length; index++) {
    const { code, jumpTrue, jumpFalse, k } = program[index]!;
    if (code === 0x20) accumulator = words.get(k) ?? 0;
    else if (code === 0x06) return k;
    else {
      const holds = code === 0x15 ? accumulator === k : code === 0x35 ? accumulator >= k : (accumulator & k) !== 0;
      index += holds ? jumpTrue : jumpFalse;
    }
  }
  throw new Error("fell off the end");
}

const x86_64 = 0xc000003e;
const aarch64 = 0xc00000b7;
const allow = 0x7fff0000;
const eperm = 0x00050001;
const enosys = 0x00050026;

describe("seccompProgram", () => {
  const program = decode(seccompProgram());

  test("refuses keyrings, bpf, perf events and ptrace on both architectures", () => {
    for (const [arch, numbers] of [[x86_64, [250, 248, 249, 321, 298, 101]], [aarch64, [219, 217, 218, 280, 241, 117]]] as const) {
      for (const nr of numbers) expect(evaluate(program, { nr, arch }), `${arch} ${nr}`).toBe(eperm);
    }
  });

  test("allows ordinary calls, and clone without namespace flags", () => {
    for (const nr of [0, 1, 2, 39, 57, 59, 61]) expect(evaluate(program, { nr, arch: x86_64 })).toBe(allow);
    expect(evaluate(program, { nr: 56, arch: x86_64, firstArgument: 0x01200011 })).toBe(allow);
    expect(evaluate(program, { nr: 220, arch: aarch64, firstArgument: 0x01200011 })).toBe(allow);
  });

  test("refuses clone into new namespaces, answers clone3 ENOSYS, x32 and other architectures EPERM", () => {
    expect(evaluate(program, { nr: 56, arch: x86_64, firstArgument: 0x10000000 })).toBe(eperm);
    expect(evaluate(program, { nr: 435, arch: x86_64 })).toBe(enosys);
    expect(evaluate(program, { nr: 0x40000000 + 39, arch: x86_64 })).toBe(eperm);
    expect(evaluate(program, { nr: 39, arch: 0x40000003 })).toBe(eperm);
  });

  // The numbers are written out by hand; the kernel's own header, where installed, checks them.
  test.runIf(existsSync("/usr/include/x86_64-linux-gnu/asm/unistd_64.h"))("matches the x86_64 unistd header", () => {
    const header = readFileSync("/usr/include/x86_64-linux-gnu/asm/unistd_64.h", "utf8");
    for (const name of refusedSyscalls) {
      const number = new RegExp(`#define __NR_${name} (\\d+)`).exec(header)?.[1];
      if (number === undefined) continue;
      expect(evaluate(program, { nr: Number(number), arch: x86_64 }), name).toBe(eperm);
    }
  });
});
