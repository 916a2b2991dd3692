import { useState, type FormEvent } from "react";
import type { AuditEntry } from "@ciab/protocol";
import { useApi } from "../api-context.js";
import { ErrorBanner } from "../components/error-banner.js";
import { shorten } from "../format.js";
import { Link } from "../router.js";
import { useResource } from "../use-resource.js";

/** The audit trail, oldest first, one page of the API at a time; `?session_id=` (a session page's link) filters it. */
export function AuditPage() {
  const { api } = useApi();
  const [sessionID, setSessionID] = useState(() => new URLSearchParams(location.search).get("session_id")?.slice(0, 64) ?? "");
  const [draft, setDraft] = useState(sessionID);
  const filter = sessionID === "" ? {} : { sessionID };
  const first = useResource((signal) => api.audit(filter, signal), sessionID, 5_000);
  const [more, setMore] = useState<{ key: string; entries: AuditEntry[]; next: string | null }>();
  const [error, setError] = useState<unknown>();

  const extra = more?.key === sessionID ? more : undefined;
  const next = extra ? extra.next : first.data?.next;
  const entries = [...(first.data?.entries ?? []), ...(extra?.entries ?? [])];
  const loadMore = async () => {
    if (!next) return;
    try {
      const page = await api.audit({ ...filter, cursor: next });
      setMore({ key: sessionID, entries: [...(extra?.entries ?? []), ...page.entries], next: page.next });
    } catch (caught) {
      setError(caught);
    }
  };
  const applyFilter = (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    setSessionID(draft.trim());
  };

  return (
    <section>
      <h1>Audit</h1>
      <p className="hint">Every tool call with its actor and a digest of its arguments (never their contents), oldest first.</p>
      <form className="inline-form" onSubmit={applyFilter}>
        <label>
          Session
          <input name="session_id" value={draft} maxLength={64} placeholder="ses_…" onChange={(event) => setDraft(event.target.value)} />
        </label>
        <button type="submit" className="secondary">
          Filter
        </button>
      </form>
      <ErrorBanner error={first.error ?? error} />
      {entries.length === 0 ? (
        <p className="empty">{first.data === undefined ? (first.error ? "" : "Loading…") : "No entries."}</p>
      ) : (
        <table className="list" aria-label="Audit trail">
          <thead>
            <tr>
              <th>Time</th>
              <th>Actor</th>
              <th>Tool</th>
              <th>Session</th>
              <th>Result</th>
              <th>Arguments</th>
              <th>Duration</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((entry) => (
              <tr key={entry.id} data-audit-id={entry.id}>
                <td>{new Date(entry.created_at).toLocaleString()}</td>
                <td className="mono">{entry.actor}</td>
                <td className="mono">{entry.tool}</td>
                <td>{entry.session_id ? <Link to={`/sessions/${entry.session_id}`}>{entry.session_id}</Link> : "–"}</td>
                <td>
                  {entry.result}
                  {entry.error_code && ` (${entry.error_code})`}
                </td>
                <td className="mono" title={`sha256 of the arguments: ${entry.args_digest}`}>
                  {shorten(entry.args_digest, 16)}
                </td>
                <td>{entry.duration_ms} ms</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {next && (
        <button type="button" className="secondary" onClick={() => void loadMore()}>
          Load more
        </button>
      )}
    </section>
  );
}
