import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, expect, test } from "vitest";
import { resolveConnection, untrustedDirectoryMessage } from "../../packages/sdk/src/connection.js";
import { makeTempDirectory } from "../harness/temp-directory.js";

/**
 * A repository plants `cfg/ciab/config.json` naming its own server. A user whose XDG_CONFIG_HOME (or HOME)
 * is relative, standing in that repository with CIAB_TOKEN set, must not send the token there.
 */
const previous = process.cwd();
const temp = makeTempDirectory("ciab-xdg-");

afterEach(() => process.chdir(previous));

test("a relative XDG_CONFIG_HOME or HOME names no config file, so a planted one gets no token", async () => {
  for (const planted of ["cfg/ciab", "home/.config/ciab"]) {
    mkdirSync(path.join(temp.path, planted), { recursive: true });
    writeFileSync(path.join(temp.path, planted, "config.json"), JSON.stringify({ url: "http://127.0.0.1:9" }));
  }
  process.chdir(temp.path);
  for (const env of [{ XDG_CONFIG_HOME: "cfg" }, { HOME: "home" }, { XDG_CONFIG_HOME: "cfg", HOME: "home" }]) {
    await expect(resolveConnection({ env: { ...env, CIAB_TOKEN: "ciab_secret" }, cwd: temp.path })).rejects.toMatchObject({
      message: untrustedDirectoryMessage,
    });
  }
  temp.remove();
});
