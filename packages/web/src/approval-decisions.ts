/**
 * Told of every decision made in this tab, so the nav's count follows at once rather than at its next poll.
 * Within one tab only: decisions made elsewhere arrive with the poll.
 */
export const approvalDecisions = new EventTarget();

export function announceApprovalDecision(): void {
  approvalDecisions.dispatchEvent(new Event("decided"));
}
