import { useApi } from "../api-context.js";
import { ErrorBanner } from "../components/error-banner.js";
import { age, shorten, usd } from "../format.js";
import { Link, navigate } from "../router.js";
import { useResource } from "../use-resource.js";
import { SessionStartForm } from "./session-start-form.js";

export function SessionsPage() {
  const { api } = useApi();
  const sessions = useResource((signal) => api.sessions.list(signal), "sessions", 5_000);
  return (
    <section>
      <h1>Sessions</h1>
      <SessionStartForm onStarted={(session) => navigate(`/sessions/${session.id}`)} />
      <ErrorBanner error={sessions.error} />
      <table className="list" aria-label="Sessions">
        <thead>
          <tr>
            <th>Session</th>
            <th>State</th>
            <th>Provider</th>
            <th>Prompt</th>
            <th>Age</th>
            <th>Cost</th>
          </tr>
        </thead>
        <tbody>
          {(sessions.data ?? []).map((session) => (
            <tr key={session.id} data-session-id={session.id}>
              <td>
                <Link to={`/sessions/${session.id}`}>{session.id}</Link>
              </td>
              <td>
                <span className={`state state-${session.state}`}>{session.state}</span>
                {session.exit_code !== null && ` (exit ${session.exit_code})`}
              </td>
              <td>{session.provider}</td>
              <td className="mono">{session.prompt === null ? <em>interactive</em> : shorten(session.prompt)}</td>
              <td>{age(session.created_at)}</td>
              <td>{usd(session.cost_usd + session.usage.cost_usd)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {sessions.data?.length === 0 && <p className="empty">No sessions.</p>}
    </section>
  );
}
