import { Argument, Option, type Command } from "commander";
import { action } from "../../action.js";
import type { UserOptions } from "./workspace-of.js";

const workspaceOption = () => new Option("--workspace <id>", "the workspace (default: your token's)");

/** Adds `ciab user add|list|rm|set-role`; each verb's module loads only when it runs. */
export function addUserCommand(program: Command): void {
  const user = program.command("user").description("users of a workspace (its admins add, remove and change them)");
  user
    .command("add")
    .argument("<name>", "the user's name")
    .description("add a user; their first token is printed this once")
    .addOption(new Option("--role <role>", "their role (default: member)").choices(["admin", "member"]))
    .addOption(workspaceOption())
    .option("--json", "print { user, token } as JSON")
    .addHelpText("after", "\nExample:\n  ciab user add alice --role member")
    .action(action<UserOptions & { role?: "admin" | "member" }>(async (context, args, options) => (await import("./add.js")).add(context, args, options)));
  user
    .command("list")
    .alias("ls")
    .description("list a workspace's users")
    .addOption(workspaceOption())
    .option("--json", "print { users } as JSON")
    .addHelpText("after", "\nExample:\n  ciab user list")
    .action(action<UserOptions>(async (context, args, options) => (await import("./list.js")).list(context, args, options)));
  user
    .command("rm")
    .alias("remove")
    .argument("<user-id>", "user id (usr_…)")
    .description("remove a user: their tokens stop working at once")
    .addOption(workspaceOption())
    .option("--json", "print the removed user as JSON")
    .addHelpText("after", "\nExample:\n  ciab user rm usr_01j9z3k8x2m4n6p8r0t2v4w6y8")
    .action(action<UserOptions>(async (context, args, options) => (await import("./remove.js")).remove(context, args, options)));
  user
    .command("set-role")
    .argument("<user-id>", "user id (usr_…)")
    .addArgument(new Argument("<role>", "the new role").choices(["admin", "member"]))
    .description("change a user's role (a workspace keeps at least one admin)")
    .addOption(workspaceOption())
    .option("--json", "print the user as JSON")
    .addHelpText("after", "\nExample:\n  ciab user set-role usr_01j9z3k8x2m4n6p8r0t2v4w6y8 admin")
    .action(action<UserOptions>(async (context, args, options) => (await import("./set-role.js")).setRole(context, args, options)));
}
