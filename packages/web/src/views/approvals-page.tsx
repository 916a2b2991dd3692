import { ApprovalTable } from "./approval-table.js";

export function ApprovalsPage() {
  return (
    <section>
      <h1>Approvals</h1>
      <p className="hint">Tool calls a policy rule held. An approved call runs once, as the user who asked; a denied one fails with approval_denied.</p>
      <ApprovalTable />
    </section>
  );
}
