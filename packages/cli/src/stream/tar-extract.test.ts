import { execFileSync } from "node:child_process";
import { createReadStream, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { extractTar } from "./tar-extract.js";

const scratch = mkdtempSync(path.join(tmpdir(), "ciab-tar-extract-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function tarOf(name: string, args: string[]): string {
  const archive = path.join(scratch, `${name}.tar`);
  execFileSync("tar", ["-cf", archive, ...args], { cwd: scratch });
  return archive;
}

describe("extractTar", () => {
  it("keeps files, modes, empty directories, long names and symlinks as links", async () => {
    const source = path.join(scratch, "source");
    const deep = path.join(source, "a".repeat(90), "b".repeat(90));
    mkdirSync(deep, { recursive: true });
    mkdirSync(path.join(source, "empty"));
    writeFileSync(path.join(deep, "long-file-name.txt"), "deep");
    writeFileSync(path.join(source, "run.sh"), "#!/bin/sh\n", { mode: 0o755 });
    writeFileSync(path.join(source, "setuid"), "x", { mode: 0o4755 });
    symlinkSync("run.sh", path.join(source, "link"));
    const archive = tarOf("good", ["-C", source, "."]);
    const destination = path.join(scratch, "good-out");
    const result = await extractTar(createReadStream(archive), destination);
    expect(result).toMatchObject({ files: 3, symlinks: 1, skipped: [] });
    expect(readFileSync(path.join(destination, "a".repeat(90), "b".repeat(90), "long-file-name.txt"), "utf8")).toBe("deep");
    expect(lstatSync(path.join(destination, "run.sh")).mode & 0o7777).toBe(0o755);
    expect(lstatSync(path.join(destination, "setuid")).mode & 0o7777).toBe(0o755);
    expect(lstatSync(path.join(destination, "empty")).isDirectory()).toBe(true);
    expect(readlinkSync(path.join(destination, "link"))).toBe("run.sh");
  });

  it("never writes through a link the archive made", async () => {
    const outside = path.join(scratch, "outside");
    mkdirSync(outside);
    const work = path.join(scratch, "evil-src");
    mkdirSync(work);
    symlinkSync(outside, path.join(work, "evil"));
    writeFileSync(path.join(work, "x"), "owned");
    const archive = tarOf("evil", ["-C", work, "evil"]);
    execFileSync("tar", ["-rf", archive, "-C", work, "--transform", "s,^x$,evil/x,", "x"]);
    await expect(extractTar(createReadStream(archive), path.join(scratch, "evil-out"))).rejects.toThrow(/in the way/);
    expect(existsSync(path.join(outside, "x"))).toBe(false);
  });

  it("refuses names that climb out or are absolute", async () => {
    const work = path.join(scratch, "climb-src");
    mkdirSync(work);
    writeFileSync(path.join(work, "y"), "escaped");
    const climbing = tarOf("climb", ["-C", work, "-P", "--transform", "s,^y$,../y,", "y"]);
    await expect(extractTar(createReadStream(climbing), path.join(scratch, "climb-out"))).rejects.toThrow(/climbs out/);
    const absolute = tarOf("absolute", ["-C", work, "-P", "--transform", "s,^y$,/tmp/y-ciab-test,", "y"]);
    await expect(extractTar(createReadStream(absolute), path.join(scratch, "absolute-out"))).rejects.toThrow(/absolute/);
    expect(existsSync(path.join(scratch, "y"))).toBe(false);
  });
});
