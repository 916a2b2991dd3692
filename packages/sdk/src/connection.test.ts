import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { noServerMessage, resolveConnection, resolveDataDirectory, untrustedDirectoryMessage } from "./connection.js";
import { CiabConnectionError } from "./errors.js";
import { userConfigPath, writeUserConfig } from "./user-config.js";

let directory: string;

beforeEach(async () => {
  directory = await mkdtemp(path.join(tmpdir(), "ciab-connection-"));
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function writeLocalServer(
  dataDirectory: string,
  url = "http://127.0.0.1:8420",
  pid = process.pid,
): Promise<void> {
  await writeFile(path.join(dataDirectory, "server.json"), JSON.stringify({ url, pid }));
  await writeFile(path.join(dataDirectory, "admin-token"), "ciab_local\n", { mode: 0o600 });
}

describe("resolveDataDirectory", () => {
  it("prefers the option, then CIAB_DATA_DIR, then ./.ciab", () => {
    const env = { CIAB_DATA_DIR: "/from/env" };
    expect(resolveDataDirectory({ dataDirectory: "/flag", env })).toBe("/flag");
    expect(resolveDataDirectory({ env })).toBe("/from/env");
    expect(resolveDataDirectory({ env: {}, cwd: "/repo" })).toBe("/repo/.ciab");
    expect(resolveDataDirectory({ dataDirectory: "data", env: {}, cwd: "/repo" })).toBe("/repo/data");
  });
});

describe("resolveConnection", () => {
  it("uses flags over env over the data dir", async () => {
    await writeLocalServer(directory);
    const env = { CIAB_URL: "http://env:1/", CIAB_TOKEN: "ciab_env", CIAB_DATA_DIR: directory };
    expect(await resolveConnection({ url: "http://flag:2", token: "ciab_flag", env })).toEqual({
      url: "http://flag:2",
      token: "ciab_flag",
    });
    expect(await resolveConnection({ env })).toEqual({ url: "http://env:1", token: "ciab_env" });
    expect(await resolveConnection({ env: { CIAB_DATA_DIR: directory } })).toEqual({
      url: "http://127.0.0.1:8420",
      token: "ciab_local",
    });
  });

  it("takes the data dir given as an option over CIAB_DATA_DIR", async () => {
    await writeLocalServer(directory, "http://127.0.0.1:9999");
    const connection = await resolveConnection({ dataDirectory: directory, env: { CIAB_DATA_DIR: "/nowhere" } });
    expect(connection).toEqual({ url: "http://127.0.0.1:9999", token: "ciab_local" });
  });

  it("sends the admin token only to the server that wrote it", async () => {
    await writeLocalServer(directory);
    const env = { CIAB_DATA_DIR: directory };
    expect(await resolveConnection({ url: "http://127.0.0.1:8420/", env })).toEqual({
      url: "http://127.0.0.1:8420",
      token: "ciab_local",
    });
    expect(await resolveConnection({ url: "https://remote.example", env })).toEqual({
      url: "https://remote.example",
      token: undefined,
    });
  });

  it("says how to start a server when there is none", async () => {
    const promise = resolveConnection({ env: { CIAB_DATA_DIR: directory } });
    await expect(promise).rejects.toBeInstanceOf(CiabConnectionError);
    await expect(promise).rejects.toMatchObject({ code: "server_not_found", message: noServerMessage });
  });

  it("ignores a server.json left by a server that is gone", async () => {
    await writeLocalServer(directory, "http://127.0.0.1:8420", 2 ** 22 + 12345);
    await expect(resolveConnection({ env: { CIAB_DATA_DIR: directory } })).rejects.toMatchObject({
      code: "server_not_found",
    });
  });

  it("never sends a token from the environment to a server.json found in ./.ciab of the working directory", async () => {
    const planted = path.join(directory, ".ciab");
    await mkdir(planted);
    await writeLocalServer(planted, "http://127.0.0.1:9");
    await expect(resolveConnection({ env: { CIAB_TOKEN: "ciab_secret" }, cwd: directory })).rejects.toMatchObject({
      code: "server_not_found",
      message: untrustedDirectoryMessage,
    });
    await expect(resolveConnection({ token: "ciab_secret", env: {}, cwd: directory })).rejects.toMatchObject({ message: untrustedDirectoryMessage });
    expect(await resolveConnection({ env: { CIAB_TOKEN: "ciab_secret", CIAB_DATA_DIR: planted }, cwd: directory })).toEqual({
      url: "http://127.0.0.1:9",
      token: "ciab_secret",
    });
    expect(await resolveConnection({ env: {}, cwd: directory })).toEqual({ url: "http://127.0.0.1:9", token: "ciab_local" });
  });

  it("finds the server saved by `ciab login` in the user's config, before ./.ciab", async () => {
    const home = path.join(directory, "home");
    const file = userConfigPath({ HOME: home })!;
    expect(file).toBe(path.join(home, ".config", "ciab", "config.json"));
    expect(userConfigPath({ HOME: home, XDG_CONFIG_HOME: "/xdg" })).toBe("/xdg/ciab/config.json");
    await writeUserConfig(file, { url: "https://team.example/", token: "ciab_saved" });
    await mkdir(path.join(directory, ".ciab"));
    await writeLocalServer(path.join(directory, ".ciab"), "http://127.0.0.1:9");
    const env = { HOME: home };
    expect(await resolveConnection({ env, cwd: directory })).toEqual({ url: "https://team.example", token: "ciab_saved" });
    // A token from the environment may go to the saved server: the user named it.
    expect(await resolveConnection({ env: { ...env, CIAB_TOKEN: "ciab_env" }, cwd: directory })).toEqual({
      url: "https://team.example",
      token: "ciab_env",
    });
    // The saved token goes to the saved server only.
    expect(await resolveConnection({ env: { ...env, CIAB_URL: "https://other.example" }, cwd: directory })).toEqual({
      url: "https://other.example",
      token: undefined,
    });
    // A named data dir wins over the saved server.
    await writeLocalServer(directory, "http://127.0.0.1:8420");
    expect(await resolveConnection({ env: { ...env, CIAB_DATA_DIR: directory } })).toEqual({
      url: "http://127.0.0.1:8420",
      token: "ciab_local",
    });
  });
});
