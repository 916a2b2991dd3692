import type { ApprovalState } from "@ciab/protocol";
import type { CommandContext } from "../../context.js";
import { formatApprovalTable } from "../../format/approvals-audit.js";

/** `ciab approvals list [--state S] [--session ID]`. */
export async function list(context: CommandContext, _args: string[], options: { state?: ApprovalState; session?: string }): Promise<void> {
  const ciab = await context.client();
  const page = await ciab.approvals.list({
    ...(options.state !== undefined && { state: options.state }),
    ...(options.session !== undefined && { sessionID: options.session }),
  });
  context.print(page, ({ approvals, next }) => formatApprovalTable(approvals) + (next ? `\nmore after ${next}` : ""));
}
