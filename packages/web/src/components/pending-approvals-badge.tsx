import { useEffect } from "react";
import { useApi } from "../api-context.js";
import { approvalDecisions } from "../approval-decisions.js";
import { useResource } from "../use-resource.js";
import { approvalRefreshMs } from "../views/approval-table.js";

/** How many held calls wait for a decision, beside the nav link; nothing when none does or the count is unknown. */
export function PendingApprovalsBadge() {
  const { api } = useApi();
  const pending = useResource((signal) => api.approvals.pending({}, signal), "pending-approvals", approvalRefreshMs);
  const { reload } = pending;
  useEffect(() => {
    approvalDecisions.addEventListener("decided", reload);
    return () => approvalDecisions.removeEventListener("decided", reload);
  }, [reload]);
  const count = pending.data?.approvals.length ?? 0;
  if (count === 0) return null;
  return (
    <span className="badge" data-testid="approvals-badge" aria-label={`${count} waiting`}>
      {pending.data?.next ? `${count}+` : count}
    </span>
  );
}
