import { useState } from "react";
import { useApi } from "../api-context.js";
import { ErrorBanner } from "../components/error-banner.js";
import { age, tagsText, usd } from "../format.js";
import { Link } from "../router.js";
import { useResource } from "../use-resource.js";
import { SandboxCreateForm } from "./sandbox-create-form.js";

const endedStates = new Set(["terminating", "terminated"]);

export function SandboxesPage() {
  const { api } = useApi();
  const sandboxes = useResource((signal) => api.sandboxes.list(signal), "sandboxes", 3_000);
  const [actionError, setActionError] = useState<unknown>();

  const remove = async (id: string) => {
    if (!confirm(`Delete sandbox ${id}? Its machine and work dir go with it.`)) return;
    setActionError(undefined);
    try {
      await api.sandboxes.remove(id);
    } catch (error) {
      setActionError(error);
    }
    sandboxes.reload();
  };

  return (
    <section>
      <h1>Sandboxes</h1>
      <SandboxCreateForm onCreated={() => sandboxes.reload()} />
      <ErrorBanner error={sandboxes.error ?? actionError} />
      <table className="list" aria-label="Sandboxes">
        <thead>
          <tr>
            <th>Sandbox</th>
            <th>State</th>
            <th>Runtime</th>
            <th>Image</th>
            <th>Age</th>
            <th>Cost</th>
            <th>Tags</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {(sandboxes.data ?? []).map((sandbox) => (
            <tr key={sandbox.id} data-sandbox-id={sandbox.id}>
              <td>
                <Link to={`/sandboxes/${sandbox.id}`}>{sandbox.name || sandbox.id}</Link>
                <div className="id">{sandbox.id}</div>
              </td>
              <td>
                <span className={`state state-${sandbox.state}`}>{sandbox.state}</span>
              </td>
              <td>{sandbox.runtime}</td>
              <td className="mono">{sandbox.image}</td>
              <td>{age(sandbox.created_at)}</td>
              <td>{usd(sandbox.cost_usd)}</td>
              <td>{tagsText(sandbox.tags)}</td>
              <td>
                {!endedStates.has(sandbox.state) && (
                  <button type="button" className="danger" onClick={() => void remove(sandbox.id)}>
                    Delete
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {sandboxes.data?.length === 0 && <p className="empty">No sandboxes.</p>}
    </section>
  );
}
