import { open, readdir, rm, stat, utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, test, vi } from "vitest";
import { makeTempDirectory } from "../../../../../test/harness/temp-directory.js";
import { WorkspaceImagePool } from "./workspace-image-pool.js";

const mebibyte = 1024 * 1024;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function setUp() {
  const data = makeTempDirectory("ciab-image-pool-");
  const pool = new WorkspaceImagePool(data.path);
  cleanups.push(() => data.remove(), () => pool.close());
  const ready = async () => (await readdir(path.join(data.path, "workspace-images"))).filter((name) => name.endsWith(".img"));
  /** Waits (bounded) until the pool made `count` ready images of `sizeBytes` behind a take. */
  const refilled = (sizeBytes: number, count = 2) =>
    vi.waitFor(async () => expect((await ready()).filter((name) => name.startsWith(`${sizeBytes}-`))).toHaveLength(count), { timeout: 10_000, interval: 20 });
  return { data: data.path, pool, ready, refilled };
}

/** Whether the file holds an ext4 superblock (magic 0xEF53 at byte 1080), i.e. mkfs ran to its end on it. */
async function isExt4(file: string): Promise<boolean> {
  const handle = await open(file, "r");
  try {
    const { buffer } = await handle.read(Buffer.alloc(2), 0, 2, 1080);
    return buffer.readUInt16LE(0) === 0xef53;
  } finally {
    await handle.close();
  }
}

describe("workspace image pool", () => {
  test("a take formats on the spot when nothing is ready, then ready images are made behind it and taken whole", async () => {
    const { data, pool, ready, refilled } = setUp();
    const first = path.join(data, "first.img");
    await pool.take(first, 16 * mebibyte);
    expect(await isExt4(first)).toBe(true);
    expect((await stat(first)).size).toBe(16 * mebibyte);
    await refilled(16 * mebibyte);
    await pool.close();

    const reopened = new WorkspaceImagePool(data);
    cleanups.push(() => reopened.close());
    const made = await ready();
    expect(made).toHaveLength(2);
    expect(made.every((name) => /^16777216-[0-9a-f]{16}\.img$/.test(name))).toBe(true);
    const second = path.join(data, "second.img");
    await reopened.take(second, 16 * mebibyte);
    expect(await isExt4(second)).toBe(true);
    // One of the ready images was moved there, not copied.
    const after = await ready();
    expect(made.filter((name) => after.includes(name))).toHaveLength(1);
  });

  test("images are kept per size: another size is never handed out", async () => {
    const { data, pool, refilled } = setUp();
    await pool.take(path.join(data, "a.img"), 16 * mebibyte);
    await refilled(16 * mebibyte);
    const target = path.join(data, "b.img");
    await pool.take(target, 24 * mebibyte);
    expect((await stat(target)).size).toBe(24 * mebibyte);
    await refilled(24 * mebibyte);
    await refilled(16 * mebibyte);
  });

  test("half-made images left by a dead control plane are removed, never handed out", async () => {
    const { data, pool, ready, refilled } = setUp();
    await pool.take(path.join(data, "a.img"), 16 * mebibyte);
    await refilled(16 * mebibyte);
    await pool.close();
    const directory = path.join(data, "workspace-images");
    for (const name of await readdir(directory)) await rm(path.join(directory, name));
    const stale = path.join(directory, ".16777216-00000000000000aa.img.tmp");
    await writeFile(stale, "half");
    const old = new Date(Date.now() - 120_000);
    await utimes(stale, old, old);

    const reopened = new WorkspaceImagePool(data);
    cleanups.push(() => reopened.close());
    const target = path.join(data, "c.img");
    await reopened.take(target, 16 * mebibyte);
    expect(await isExt4(target)).toBe(true);
    await reopened.close();
    expect(await readdir(directory)).not.toContain(".16777216-00000000000000aa.img.tmp");
    expect(await ready()).not.toContain("16777216-00000000000000aa.img");
  });
});
