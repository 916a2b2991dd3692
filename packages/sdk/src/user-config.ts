import { chmod, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";

/** What `ciab login` saves: the server a user named, and their token for it. */
export interface UserConfig {
  url: string;
  token?: string | undefined;
}

/**
 * `$XDG_CONFIG_HOME/ciab/config.json`, else `$HOME/.config/ciab/config.json`; undefined when the
 * environment names neither (a test's own env, a service without a home). A relative one is ignored, as
 * the XDG spec says: it would name a file in whatever directory one stands in, where any repository could
 * plant a server for a `CIAB_TOKEN` to go to (docs/decisions/0012-cli-trusts-nothing-in-the-working-directory.md).
 */
export function userConfigPath(env: Record<string, string | undefined> = process.env): string | undefined {
  const home = absolute(env.HOME);
  const base = absolute(env.XDG_CONFIG_HOME) ?? (home && path.join(home, ".config"));
  return base ? path.join(base, "ciab", "config.json") : undefined;
}

/** The saved config, or undefined when there is none or it is not ours (no string `url`). */
export async function readUserConfig(file: string | undefined): Promise<UserConfig | undefined> {
  if (file === undefined) return undefined;
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw error;
  }
  let parsed: { url?: unknown; token?: unknown };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    return undefined;
  }
  if (typeof parsed.url !== "string" || parsed.url === "") return undefined;
  return { url: parsed.url, token: typeof parsed.token === "string" && parsed.token !== "" ? parsed.token : undefined };
}

/** Saves the config readable by its owner only, replacing any before it in one step. */
export async function writeUserConfig(file: string, config: UserConfig): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const partial = `${file}.${process.pid}.partial`;
  await writeFile(partial, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  await chmod(partial, 0o600);
  await rename(partial, file);
}

/** Forgets the saved server and token; answers whether there was a config. */
export async function removeUserConfig(file: string): Promise<boolean> {
  try {
    await rm(file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
}

function absolute(value: string | undefined): string | undefined {
  return value !== undefined && path.isAbsolute(value) ? value : undefined;
}
