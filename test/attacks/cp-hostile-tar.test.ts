import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";
import { extractTar } from "../../packages/cli/src/stream/tar-extract.js";
import { makeTempDirectory } from "../harness/temp-directory.js";

/**
 * `ciab sandbox cp ID:dir local` unpacks whatever the sandbox's `tar` prints: a hostile sandbox crafts the
 * archive. Nothing may land outside the destination, nothing be written through a link, and no mode beyond
 * what the user's own tar would give.
 */
let temp: ReturnType<typeof makeTempDirectory>;
let destination: string;
let outside: string;

beforeEach(() => {
  temp = makeTempDirectory("ciab-tar-");
  destination = path.join(temp.path, "into");
  outside = path.join(temp.path, "outside");
  mkdirSync(outside);
  writeFileSync(path.join(outside, "victim"), "untouched");
});

afterEach(() => temp.remove());

interface Entry {
  name: string;
  type?: string;
  data?: string;
  link?: string;
  mode?: number;
}

function header(entry: Entry, size: number): Buffer {
  const block = Buffer.alloc(512);
  block.write(entry.name.slice(0, 99), 0, "utf8");
  block.write(`${(entry.mode ?? 0o644).toString(8).padStart(7, "0")}\0`, 100, "latin1");
  block.write("0000000\0", 108, "latin1");
  block.write("0000000\0", 116, "latin1");
  block.write(`${size.toString(8).padStart(11, "0")}\0`, 124, "latin1");
  block.write("00000000000\0", 136, "latin1");
  block.write(entry.type ?? "0", 156, "latin1");
  if (entry.link) block.write(entry.link.slice(0, 99), 157, "utf8");
  block.write("ustar\u000000", 257, "latin1");
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "latin1");
  return block;
}

function record(entry: Entry): Buffer {
  const data = Buffer.from(entry.data ?? "");
  const padding = Buffer.alloc((512 - (data.length % 512)) % 512);
  return Buffer.concat([header(entry, data.length), data, padding]);
}

function tar(...entries: Entry[]): AsyncIterable<Uint8Array> {
  const whole = Buffer.concat([...entries.map(record), Buffer.alloc(1024)]);
  return (async function* () {
    // Odd piece sizes, as a stream over the network would cut them.
    for (let offset = 0; offset < whole.length; offset += 333) yield whole.subarray(offset, offset + 333);
  })();
}

function untouched(): void {
  expect(readdirSync(outside)).toEqual(["victim"]);
  expect(readFileSync(path.join(outside, "victim"), "utf8")).toBe("untouched");
}

test("names that climb or are absolute are refused, also through GNU long names and pax headers", async () => {
  for (const name of ["../outside/pwned", "a/../../outside/pwned", path.join(outside, "pwned")]) {
    await expect(extractTar(tar({ name, data: "x" }), destination)).rejects.toThrow();
  }
  const longName = `../outside/${"n".repeat(150)}`;
  await expect(extractTar(tar({ name: "././@LongLink", type: "L", data: `${longName}\0` }, { name: "short", data: "x" }), destination)).rejects.toThrow();
  const paxRecord = "30 path=../outside/pwned-pax\n";
  await expect(extractTar(tar({ name: "pax", type: "x", data: paxRecord }, { name: "short", data: "x" }), destination)).rejects.toThrow();
  untouched();
});

test("nothing is written through a symbolic link the archive planted, to a directory or to a file", async () => {
  await expect(extractTar(tar({ name: "dir", type: "2", link: outside }, { name: "dir/pwned", data: "x" }), destination)).rejects.toThrow();
  untouched();
  await extractTar(tar({ name: "file", type: "2", link: path.join(outside, "victim") }, { name: "file", data: "overwritten" }), destination);
  expect(lstatSync(path.join(destination, "file")).isFile()).toBe(true);
  untouched();
  await expect(
    extractTar(tar({ name: "d2", type: "2", link: "../outside" }, { name: "d2", type: "5", mode: 0o755 }, { name: "d2/pwned", data: "x" }), destination),
  ).rejects.toThrow();
  untouched();
});

test("hard links, devices and fifos are skipped; setuid, setgid and sticky bits dropped", async () => {
  const result = await extractTar(
    tar(
      { name: "hard", type: "1", link: path.join(outside, "victim") },
      { name: "hard2", type: "1", link: "../outside/victim" },
      { name: "null", type: "3" },
      { name: "disk", type: "4" },
      { name: "pipe", type: "6" },
      { name: "suid", data: "#!/bin/sh\n", mode: 0o6755 },
      { name: "sticky", type: "5", mode: 0o1777 },
    ),
    destination,
  );
  expect(result.skipped.sort()).toEqual(["disk", "hard", "hard2", "null", "pipe"]);
  for (const name of ["hard", "hard2", "null", "disk", "pipe"]) expect(existsSync(path.join(destination, name))).toBe(false);
  expect(lstatSync(path.join(destination, "suid")).mode & 0o7000).toBe(0);
  expect(lstatSync(path.join(destination, "sticky")).mode & 0o7000).toBe(0);
  untouched();
});

test("modes pass the user's umask, as their own tar would: no world-writable files from a sandbox", async () => {
  const previous = process.umask(0o022);
  try {
    await extractTar(tar({ name: "open", data: "x", mode: 0o777 }, { name: "shared", type: "5", mode: 0o777 }), destination);
    expect(lstatSync(path.join(destination, "open")).mode & 0o777).toBe(0o755);
    expect(lstatSync(path.join(destination, "shared")).mode & 0o777).toBe(0o755);
  } finally {
    process.umask(previous);
  }
});

test("a size larger than the stream, or a long-name record too long to hold, ends in an error, not a hang", async () => {
  const truncated = Buffer.concat([header({ name: "big" }, 2 ** 33 - 1), Buffer.alloc(512)]);
  await expect(extractTar((async function* () { yield truncated; })(), destination)).rejects.toThrow(/ends in the middle/);
  const huge = Buffer.concat([header({ name: "././@LongLink", type: "L" }, 10 * 1024 * 1024), Buffer.alloc(512)]);
  await expect(extractTar((async function* () { yield huge; })(), destination)).rejects.toThrow(/too long/);
});
