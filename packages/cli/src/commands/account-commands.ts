import type { Command } from "commander";
import { addTokenCommand } from "./token/token-command.js";
import { addUserCommand } from "./user/user-command.js";
import { addWorkspaceCommand } from "./workspace/workspace-command.js";

/** `ciab token …`, `ciab user …` and `ciab workspace …`. */
export function addAccountCommands(program: Command): void {
  addTokenCommand(program);
  addUserCommand(program);
  addWorkspaceCommand(program);
}
