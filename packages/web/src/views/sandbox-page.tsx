import { useApi } from "../api-context.js";
import { ErrorBanner } from "../components/error-banner.js";
import { age, tagsText, usd } from "../format.js";
import { Link, navigate } from "../router.js";
import { useResource } from "../use-resource.js";
import { ArtifactTable } from "./artifact-table.js";
import { CommandRunner } from "./command-runner.js";

const endedStates = new Set(["terminating", "terminated"]);

export function SandboxPage(props: { id: string }) {
  const { api } = useApi();
  const sandbox = useResource((signal) => api.sandboxes.get(props.id, signal), props.id, 3_000);
  const ready = sandbox.data?.state === "ready";
  const ports = useResource((signal) => (ready ? api.sandboxes.ports(props.id, signal) : Promise.resolve([])), `${props.id}:${ready}`);
  // The API lists sessions newest first with no sandbox filter: the page picks this sandbox's out of the latest.
  const sessions = useResource((signal) => api.sessions.list(signal), `sessions:${props.id}`, 10_000);
  const ownSessions = (sessions.data ?? []).filter((session) => session.sandbox_id === props.id);
  const value = sandbox.data;

  return (
    <section>
      <h1>
        Sandbox <span className="mono">{value?.name || props.id}</span>
      </h1>
      <ErrorBanner error={sandbox.error} />
      {value && (
        <>
          <dl className="facts">
            <dt>Id</dt>
            <dd className="mono">{value.id}</dd>
            <dt>State</dt>
            <dd>
              <span className={`state state-${value.state}`} data-testid="sandbox-state">
                {value.state}
              </span>
              {value.status_message && ` · ${value.status_message}`}
              {value.failure && ` · ${value.failure.reason}: ${value.failure.message}`}
            </dd>
            <dt>Runtime</dt>
            <dd>{value.runtime}</dd>
            <dt>Image</dt>
            <dd className="mono">{value.image}</dd>
            <dt>Age</dt>
            <dd>{age(value.created_at)}</dd>
            <dt>Cost</dt>
            <dd>{usd(value.cost_usd)}</dd>
            <dt>Expires</dt>
            <dd>{value.expires_at ?? "–"}</dd>
            <dt>Tags</dt>
            <dd>{tagsText(value.tags) || "–"}</dd>
          </dl>
          {!endedStates.has(value.state) && (
            <button
              type="button"
              className="danger"
              onClick={() => {
                if (!confirm(`Delete sandbox ${value.id}? Its machine and work dir go with it.`)) return;
                void api.sandboxes.remove(value.id).then(
                  () => navigate("/sandboxes"),
                  () => sandbox.reload(),
                );
              }}
            >
              Delete sandbox
            </button>
          )}
          <CommandRunner sandboxID={value.id} disabled={!ready} />
          <section>
            <h2>Listening ports</h2>
            {ready && (
              <button type="button" className="secondary" onClick={ports.reload}>
                Refresh ports
              </button>
            )}
            <ErrorBanner error={ports.error} />
            {(ports.data ?? []).length === 0 ? (
              <p className="empty">None{ready ? "" : " (the sandbox is not ready)"}. A session's page links to its previews.</p>
            ) : (
              <ul>
                {(ports.data ?? []).map((port) => (
                  <li key={`${port.address}:${port.port}`} className="mono">
                    {port.address}:{port.port} ({port.family})
                  </li>
                ))}
              </ul>
            )}
          </section>
          <section>
            <h2>Sessions</h2>
            {ownSessions.length === 0 ? (
              <p className="empty">No recent session ran here.</p>
            ) : (
              <ul>
                {ownSessions.map((session) => (
                  <li key={session.id}>
                    <Link to={`/sessions/${session.id}`}>{session.id}</Link> · {session.provider} ·{" "}
                    <span className={`state state-${session.state}`}>{session.state}</span>
                  </li>
                ))}
              </ul>
            )}
          </section>
          <section>
            <h2>Artifacts</h2>
            <ArtifactTable filter={{ sandboxID: value.id }} />
          </section>
        </>
      )}
    </section>
  );
}
