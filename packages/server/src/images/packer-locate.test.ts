import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { makeTempDirectory } from "../../../../test/harness/temp-directory.js";
import { locatePacker } from "./packer-driver.js";

/**
 * `[packer] auto_install` on a host without packer. The real apt-get would change this shared host, so PATH
 * holds an apt-get of the test's that records its arguments and "installs" packer into a directory on PATH,
 * as Debian's package puts it in /usr/bin.
 */
const temp = makeTempDirectory("ciab-packer-locate-");
afterAll(() => temp.remove());

function hostWithoutPacker(aptSucceeds: boolean): { env: NodeJS.ProcessEnv; aptLog: string } {
  const root = path.join(temp.path, String(Math.random()).slice(2));
  const sbin = path.join(root, "sbin");
  const bin = path.join(root, "bin");
  mkdirSync(sbin, { recursive: true });
  mkdirSync(bin, { recursive: true });
  const aptLog = path.join(root, "apt.log");
  const install = aptSucceeds ? `printf '#!/bin/sh\\necho 1.6.6\\n' > ${bin}/packer && /bin/chmod +x ${bin}/packer` : "echo 'E: Unable to locate package packer' >&2; exit 100";
  writeFileSync(path.join(sbin, "apt-get"), `#!/bin/sh\necho "$@ $DEBIAN_FRONTEND" >> ${aptLog}\n${install}\n`);
  chmodSync(path.join(sbin, "apt-get"), 0o755);
  return { env: { PATH: `${sbin}:${bin}` }, aptLog };
}

describe("locating packer", () => {
  test("missing with auto_install: Debian's package is installed, noninteractively, and the binary it puts on PATH is used", async () => {
    const { env, aptLog } = hostWithoutPacker(true);
    const found = await locatePacker("packer", true, env);
    expect(found).toMatch(/\/bin\/packer$/);
    expect(readFileSync(aptLog, "utf8").trim()).toBe("install -y -qq packer noninteractive");
  });

  test("missing without auto_install: a clear error naming what to install, and apt-get is never run", async () => {
    const { env, aptLog } = hostWithoutPacker(true);
    await expect(locatePacker("packer", false, env)).rejects.toMatchObject({ code: "capability_unsupported", message: expect.stringMatching(/apt-get install packer/) });
    expect(() => readFileSync(aptLog)).toThrow();
  });

  test("an install that fails keeps apt-get's own words", async () => {
    const { env } = hostWithoutPacker(false);
    await expect(locatePacker("packer", true, env)).rejects.toMatchObject({ code: "capability_unsupported", message: expect.stringMatching(/Unable to locate package packer/) });
  });

  test("a binary_path given as a path is never installed over", async () => {
    const { env, aptLog } = hostWithoutPacker(true);
    await expect(locatePacker(path.join(temp.path, "no", "packer"), true, env)).rejects.toMatchObject({ code: "capability_unsupported" });
    expect(() => readFileSync(aptLog)).toThrow();
  });
});
