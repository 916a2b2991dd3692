import type { CommandContext } from "../../context.js";
import { formatApprovalTable } from "../../format/approvals-audit.js";

/** `ciab approvals approve|deny ID`: an approved call runs once, and its outcome is shown. */
export async function decide(context: CommandContext, args: string[], decision: "approve" | "deny"): Promise<void> {
  const ciab = await context.client();
  const id = args[0]!;
  const approval = decision === "approve" ? await ciab.approvals.approve(id) : await ciab.approvals.deny(id);
  context.print(approval, (value) => formatApprovalTable([value]));
}
