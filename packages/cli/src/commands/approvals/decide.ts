import type { CommandContext } from "../../context.js";
import { formatApprovalTable } from "../../format/approvals-audit.js";

/** `ciab approvals approve|deny ID [--note TEXT]`: an approved call runs once, and its outcome is shown. */
export async function decide(context: CommandContext, args: string[], decision: "approve" | "deny", options: { note?: string } = {}): Promise<void> {
  const ciab = await context.client();
  const id = args[0]!;
  const decideOptions = options.note === undefined ? {} : { note: options.note };
  const approval = decision === "approve" ? await ciab.approvals.approve(id, decideOptions) : await ciab.approvals.deny(id, decideOptions);
  context.print(approval, (value) => formatApprovalTable([value]));
}
