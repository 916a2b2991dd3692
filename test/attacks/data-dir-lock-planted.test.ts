import { spawnSync } from "node:child_process";
import { closeSync, existsSync, lstatSync, mkdirSync, openSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { lockDataDirectory } from "../../packages/server/src/data-dir-lock.js";
import { makeTempDirectory } from "../harness/temp-directory.js";

/**
 * Whatever sits at `server.lock` or `server.lock.takeover` when a server starts is not trusted: a symlink is
 * never followed (neither read through nor judged by its target), a FIFO never blocks the start, a huge or
 * garbage lock is read only as far as a lock can be long, and none of them keeps the server from starting.
 */
describe("things planted where the data dir lock goes", () => {
  const temps: { path: string; remove(): void }[] = [];
  const released: (() => void)[] = [];
  afterEach(() => {
    for (const release of released.splice(0)) release();
    for (const temp of temps.splice(0)) temp.remove();
  });

  function directories(): { data: string; elsewhere: string } {
    const temp = makeTempDirectory("ciab-lock-planted-");
    temps.push(temp);
    const data = path.join(temp.path, "data");
    const elsewhere = path.join(temp.path, "elsewhere");
    mkdirSync(data);
    mkdirSync(elsewhere);
    return { data, elsewhere };
  }

  function takeWithin(data: string, limitMs: number): void {
    const started = Date.now();
    const lock = lockDataDirectory(data);
    released.push(() => lock.release());
    expect(Date.now() - started).toBeLessThan(limitMs);
    expect(lstatSync(lock.file).isFile()).toBe(true);
    expect(JSON.parse(readFileSync(lock.file, "utf8")).pid).toBe(process.pid);
  }

  test("a dangling symlink at server.lock is replaced, not left to block every start", () => {
    const { data, elsewhere } = directories();
    symlinkSync(path.join(elsewhere, "nothing-here"), path.join(data, "server.lock"));
    takeWithin(data, 2_000);
    expect(existsSync(path.join(elsewhere, "nothing-here"))).toBe(false);
  });

  test("a symlink to a directory at server.lock is replaced", () => {
    const { data, elsewhere } = directories();
    symlinkSync(elsewhere, path.join(data, "server.lock"));
    takeWithin(data, 2_000);
    expect(existsSync(elsewhere)).toBe(true);
  });

  test("a symlink to a live process's lock elsewhere is not taken for a lock of this data dir", () => {
    const { data, elsewhere } = directories();
    const other = path.join(elsewhere, "server.lock");
    const text = `${JSON.stringify({ pid: 1, start: null })}\n`;
    writeFileSync(other, text);
    symlinkSync(other, path.join(data, "server.lock"));
    takeWithin(data, 2_000);
    expect(readFileSync(other, "utf8")).toBe(text);
  });

  test("a lock naming a live pid without a start time (never written by a server here) does not block", () => {
    const { data } = directories();
    writeFileSync(path.join(data, "server.lock"), `${JSON.stringify({ pid: 1 })}\n`);
    takeWithin(data, 2_000);
  });

  test("a FIFO at server.lock does not block the start", () => {
    const { data } = directories();
    expect(spawnSync("mkfifo", [path.join(data, "server.lock")]).status).toBe(0);
    takeWithin(data, 2_000);
  });

  test("a huge sparse file at server.lock is read only as far as a lock can be long", () => {
    const { data } = directories();
    const file = path.join(data, "server.lock");
    closeSync(openSync(file, "w"));
    truncateSync(file, 1024 ** 4);
    const before = process.memoryUsage().rss;
    takeWithin(data, 2_000);
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 1024 ** 2);
  });

  test("a symlink at server.lock.takeover is not judged by its target's age", () => {
    const { data, elsewhere } = directories();
    writeFileSync(path.join(data, "server.lock"), "garbage\n");
    const fresh = path.join(elsewhere, "fresh");
    writeFileSync(fresh, "");
    symlinkSync(fresh, path.join(data, "server.lock.takeover"));
    takeWithin(data, 2_000);
    expect(existsSync(fresh)).toBe(true);
  });
});
