import type { CommandContext } from "../../context.js";
import { readSecret } from "../../read-secret.js";
import { UsageError } from "../../usage-error.js";

/**
 * `ciab login --url URL [--token T]`: checks that the token works on that server, then saves both in the
 * user's config file (owner-only), where the CLI and the SDK find them from any directory.
 */
export async function login(context: CommandContext): Promise<void> {
  const url = context.globals.url;
  if (!url) throw new UsageError("name the server: ciab login --url https://…");
  const token = context.globals.token ?? (await readSecret("token (then Enter): "));
  if (!token) throw new UsageError("give the token on stdin (echo … | ciab login --url …) or with --token");
  const { Ciab, userConfigPath, writeUserConfig } = await import("@ciab/sdk");
  await new Ciab({ url, token }).sandboxes.list();
  const file = userConfigPath();
  if (file === undefined) throw new UsageError("no home directory to save the login in: set HOME or XDG_CONFIG_HOME");
  await writeUserConfig(file, { url, token });
  context.print({ url, config: file }, (saved) => `logged in to ${saved.url} (saved in ${saved.config})`);
}

/** `ciab logout`: forgets the saved server and token. */
export async function logout(context: CommandContext): Promise<void> {
  const { removeUserConfig, userConfigPath } = await import("@ciab/sdk");
  const file = userConfigPath();
  const removed = file !== undefined && (await removeUserConfig(file));
  context.print({ removed, config: file ?? null }, (result) => (result.removed ? `removed ${result.config}` : "not logged in"));
}
