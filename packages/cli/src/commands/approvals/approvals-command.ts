import { Option, type Command } from "commander";
import type { ApprovalState } from "@ciab/protocol";
import { action } from "../../action.js";
import type { AuditOptions } from "../audit/list.js";

/** Adds `ciab approvals …` and `ciab audit`; each verb's module loads only when it runs. */
export function addApprovalsAndAuditCommands(program: Command): void {
  const approvals = program.command("approvals").description("tool calls held by [policy] tool_rules, decided by workspace admins");
  approvals
    .command("list")
    .alias("ls")
    .description("list approvals, oldest first (admins: the workspace's; members: their own)")
    .addOption(new Option("--state <state>", "only approvals in this state").choices(["pending", "approved", "denied", "expired"]))
    .option("--session <id>", "only this session's")
    .option("--json", "print { approvals, next } as JSON")
    .action(
      action<{ state?: ApprovalState; session?: string }>(async (context, args, options) => (await import("./list.js")).list(context, args, options)),
    );
  for (const decision of ["approve", "deny"] as const) {
    approvals
      .command(decision)
      .argument("<id>", "approval id (apr_…)")
      .description(decision === "approve" ? "approve a held call: it runs once, as the user who asked" : "deny a held call: it fails with approval_denied")
      .option("--note <text>", "a note to the agent (at most 1024 characters); a denied call's error ends with it")
      .option("--json", "print the approval as JSON")
      .action(action<{ note?: string }>(async (context, args, options) => (await import("./decide.js")).decide(context, args, decision, options)));
  }
  program
    .command("audit")
    .description("the audit trail of tool calls, oldest first")
    .option("--sandbox <id>", "only calls in this sandbox")
    .option("--session <id>", "only calls in this session")
    .option("--actor <user>", "only calls by this user")
    .option("--tool <name>", "only this tool (write_file, exec.run, files.read, approval.approve…)")
    .option("--since <time>", "ISO time, inclusive")
    .option("--until <time>", "ISO time, exclusive")
    .option("--cursor <id>", "the `next` of the previous page")
    .option("--limit <n>", "entries per page (default 100)", (value) => Number.parseInt(value, 10))
    .option("--json", "print { entries, next } as JSON")
    .action(action<AuditOptions>(async (context, args, options) => (await import("../audit/list.js")).list(context, args, options)));
}
