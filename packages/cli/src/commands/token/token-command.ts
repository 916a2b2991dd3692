import { Option, type Command } from "commander";
import { action } from "../../action.js";
import { parseDuration } from "../../parse/duration.js";
import type { TokenCreateOptions } from "./create.js";

/** Adds `ciab token create|list|revoke`; each verb's module loads only when it runs. */
export function addTokenCommand(program: Command): void {
  const token = program.command("token").description("API tokens: create (shown once), list, revoke");
  token
    .command("create")
    .argument("<name>", "what the token is for, e.g. ci")
    .description("create a token for yourself; its text is printed this once")
    .addOption(new Option("--role <role>", "narrow it to member rights").choices(["admin", "member"]))
    .option("--expires <duration>", "it stops working after this long: seconds or 30m, 12h, 90d", parseDuration)
    .option("--json", "print the token (with its text) as JSON")
    .addHelpText("after", "\nExample:\n  ciab token create ci --role member --expires 90d")
    .action(action<TokenCreateOptions>(async (context, args, options) => (await import("./create.js")).create(context, args, options)));
  token
    .command("list")
    .alias("ls")
    .description("list live tokens (yours; a workspace admin sees the workspace's)")
    .option("--json", "print { tokens } as JSON")
    .addHelpText("after", "\nExample:\n  ciab token list")
    .action(action(async (context) => (await import("./list.js")).list(context)));
  token
    .command("revoke")
    .alias("rm")
    .argument("<id>", "token id (tok_…)")
    .description("revoke a token: it stops working at once, on open streams too")
    .option("--json", "print the revoked token as JSON")
    .addHelpText("after", "\nExample:\n  ciab token revoke tok_01j9z3k8x2m4n6p8r0t2v4w6y8")
    .action(action(async (context, args) => (await import("./revoke.js")).revoke(context, args)));
}
