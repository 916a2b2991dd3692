import { Option, type Command } from "commander";
import { action } from "../../action.js";
import type { WorkspaceCreateOptions } from "./create.js";

/** Adds `ciab workspace list|create`; each verb's module loads only when it runs. */
export function addWorkspaceCommand(program: Command): void {
  const workspace = program.command("workspace").alias("ws").description("workspaces (tenants); installation admins create them");
  workspace
    .command("list")
    .alias("ls")
    .description("list workspaces (installation admins see all, others their own)")
    .option("--json", "print { workspaces } as JSON")
    .addHelpText("after", "\nExample:\n  ciab workspace list")
    .action(action(async (context) => (await import("./list.js")).list(context)));
  workspace
    .command("create")
    .argument("<name>", "a unique name")
    .description("create a workspace with a first user; their token is printed this once")
    .option("--user-name <name>", "the first user's name (default: owner)")
    .addOption(new Option("--role <role>", "the first user's role (default: member)").choices(["admin", "member"]))
    .option("--json", "print { workspace, user, token } as JSON")
    .addHelpText("after", "\nExample:\n  ciab workspace create team-a --user-name alice --role admin")
    .action(action<WorkspaceCreateOptions>(async (context, args, options) => (await import("./create.js")).create(context, args, options)));
}
