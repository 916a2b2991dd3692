import { useState } from "react";
import type { Approval } from "@ciab/protocol";
import { useApi } from "../api-context.js";
import { announceApprovalDecision } from "../approval-decisions.js";
import { ErrorBanner } from "../components/error-banner.js";
import { age, shorten } from "../format.js";
import { Link } from "../router.js";
import { useResource } from "../use-resource.js";

/** Approvals are not on an event stream: the queue is asked again this often while it is shown. */
export const approvalRefreshMs = 3_000;

/** Most characters of a held call's summary shown: its path and the like come from the agent. */
const summaryLimit = 400;
/** The API's bound on a decision's note. */
const noteLimit = 1024;

/**
 * The held tool calls still waiting, oldest first, with Approve and Deny. A decision the API refuses
 * (a member, a call already decided or expired) shows the API's error and leaves the row to the next refresh.
 */
export function ApprovalTable(props: { sessionID?: string }) {
  const { api } = useApi();
  const filter = props.sessionID === undefined ? {} : { sessionID: props.sessionID };
  const pending = useResource((signal) => api.approvals.pending(filter, signal), props.sessionID ?? "", approvalRefreshMs);
  const [deciding, setDeciding] = useState<string>();
  const [decided, setDecided] = useState<Approval>();
  const [error, setError] = useState<unknown>();
  const [notes, setNotes] = useState<Record<string, string>>({});

  const decide = async (approval: Approval, decision: "approve" | "deny") => {
    setDeciding(approval.id);
    setError(undefined);
    try {
      const note = notes[approval.id];
      setDecided(await api.approvals[decision](approval.id, note?.trim() ? note : undefined));
    } catch (caught) {
      setError(caught);
    } finally {
      setDeciding(undefined);
      pending.reload();
      announceApprovalDecision();
    }
  };

  const approvals = pending.data?.approvals ?? [];
  return (
    <div>
      <ErrorBanner error={pending.error ?? error} />
      {decided && (
        <p className="notice" data-testid="approval-decided">
          {decided.tool} call {decided.state}
          {decided.outcome && ` · ${decided.outcome.status}`}
          {decided.outcome?.error && `: ${shorten(decided.outcome.error.message, 200)} (${decided.outcome.error.code})`}
          {decided.decision_note && ` · note: ${shorten(decided.decision_note, 200)}`}
        </p>
      )}
      {approvals.length === 0 ? (
        <p className="empty">{pending.data === undefined ? (pending.error ? "" : "Loading…") : "Nothing waits for a decision."}</p>
      ) : (
        <table className="list" aria-label="Pending approvals">
          <thead>
            <tr>
              <th>Tool</th>
              <th>Call</th>
              <th>Asked by</th>
              {props.sessionID === undefined && <th>Session</th>}
              <th>Waiting</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {approvals.map((approval) => (
              <tr key={approval.id} data-approval-id={approval.id}>
                <td className="mono">{approval.tool}</td>
                <td>
                  <pre className="summary">{shorten(JSON.stringify(approval.summary, null, 1), summaryLimit)}</pre>
                  <div className="hint">{shorten(approval.reason, 200)}</div>
                </td>
                <td className="mono">{approval.requested_by}</td>
                {props.sessionID === undefined && (
                  <td>
                    <Link to={`/sessions/${approval.session_id}`}>{approval.session_id}</Link>
                  </td>
                )}
                <td title={`expires ${approval.expires_at}`}>{age(approval.created_at)}</td>
                <td className="actions">
                  <button type="button" disabled={deciding !== undefined} onClick={() => void decide(approval, "approve")}>
                    Approve
                  </button>{" "}
                  <input
                    name="note"
                    aria-label="Note to the agent"
                    placeholder="note (optional)"
                    maxLength={noteLimit}
                    value={notes[approval.id] ?? ""}
                    onChange={(event) => setNotes({ ...notes, [approval.id]: event.target.value })}
                  />{" "}
                  <button type="button" className="danger" disabled={deciding !== undefined} onClick={() => void decide(approval, "deny")}>
                    Deny
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {pending.data?.next && <p className="hint">More are waiting than shown here; decide these first.</p>}
    </div>
  );
}
