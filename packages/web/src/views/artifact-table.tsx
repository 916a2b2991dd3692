import { useState } from "react";
import type { Artifact } from "@ciab/protocol";
import { useApi } from "../api-context.js";
import { ErrorBanner } from "../components/error-banner.js";
import { age, bytes, shorten } from "../format.js";
import { Link } from "../router.js";
import { useResource } from "../use-resource.js";

export interface ArtifactFilter {
  sessionID?: string;
  sandboxID?: string;
}

/**
 * Artifacts, oldest first, with their signed download links (fresh with each load: they expire), and
 * further pages on demand.
 */
export function ArtifactTable(props: { filter: ArtifactFilter; refreshMs?: number }) {
  const { api } = useApi();
  const key = `${props.filter.sessionID ?? ""}:${props.filter.sandboxID ?? ""}`;
  const first = useResource((signal) => api.artifacts.list(props.filter, signal), key, props.refreshMs ?? 10_000);
  const [more, setMore] = useState<{ after: string; artifacts: Artifact[]; next: string | null }>();
  const [error, setError] = useState<unknown>();

  const next = more ? more.next : first.data?.next;
  const artifacts = [...(first.data?.artifacts ?? []), ...(more?.artifacts ?? [])];
  const loadMore = async () => {
    if (!next) return;
    try {
      const page = await api.artifacts.list({ ...props.filter, after: next });
      setMore({ after: next, artifacts: [...(more?.artifacts ?? []), ...page.artifacts], next: page.next });
    } catch (caught) {
      setError(caught);
    }
  };

  return (
    <div>
      <ErrorBanner error={first.error ?? error} />
      {artifacts.length === 0 ? (
        <p className="empty">No artifacts.</p>
      ) : (
        <table className="list" aria-label="Artifacts">
          <thead>
            <tr>
              <th>Name</th>
              <th>Size</th>
              <th>Type</th>
              <th>Scan</th>
              <th>From</th>
              <th>Age</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {artifacts.map((artifact) => (
              <tr key={artifact.id} data-artifact-id={artifact.id}>
                <td>
                  <span className="mono" title={artifact.path}>
                    {artifact.name}
                  </span>
                  {artifact.description && <div className="hint">{shorten(artifact.description)}</div>}
                </td>
                <td>{bytes(artifact.size)}</td>
                <td className="mono">{artifact.mime}</td>
                <td>{artifact.scan.status}</td>
                <td>
                  {artifact.session_id ? (
                    <Link to={`/sessions/${artifact.session_id}`}>{artifact.session_id}</Link>
                  ) : (
                    <Link to={`/sandboxes/${artifact.sandbox_id}`}>{artifact.sandbox_id}</Link>
                  )}
                </td>
                <td>{age(artifact.created_at)}</td>
                <td>
                  {artifact.download_url ? (
                    <a href={artifact.download_url} download={artifact.name} rel="noreferrer">
                      Download
                    </a>
                  ) : (
                    "–"
                  )}
                </td>
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
    </div>
  );
}
