import { useEffect, useReducer, useState } from "react";
import { useApi } from "../api-context.js";
import { followEvents } from "../api/follow-events.js";
import { ErrorBanner } from "../components/error-banner.js";
import { age, usd } from "../format.js";
import { Link } from "../router.js";
import { addEvent, emptyTimeline } from "../session-timeline.js";
import { useResource } from "../use-resource.js";
import { ApprovalTable } from "./approval-table.js";
import { ArtifactTable } from "./artifact-table.js";
import { SessionTimelineView } from "./session-timeline-view.js";

const finalStates = new Set(["completed", "failed", "cancelled"]);

export function SessionPage(props: { id: string }) {
  const { api } = useApi();
  const [timeline, addToTimeline] = useReducer(addEvent, emptyTimeline);
  const ended = timeline.state !== undefined && finalStates.has(timeline.state);
  // Refreshed for its cost and fields while it runs; the events say when it has ended.
  const session = useResource((signal) => api.sessions.get(props.id, signal), `${props.id}:${ended}`, ended ? undefined : 5_000);
  const [stream, setStream] = useState<"connecting" | "open" | "reconnecting" | "ended">("connecting");
  const [streamError, setStreamError] = useState<unknown>();
  const [cancelError, setCancelError] = useState<unknown>();

  useEffect(() => {
    const controller = new AbortController();
    followEvents({
      open: (lastSeq, signal) => api.sessions.openEvents(props.id, lastSeq, signal),
      signal: controller.signal,
      onEvent: addToTimeline,
      onConnection: setStream,
    }).then(
      (outcome) => {
        if (outcome === "ended") setStream("ended");
      },
      (error: unknown) => {
        if (!controller.signal.aborted) setStreamError(error);
      },
    );
    return () => controller.abort();
  }, [api, props.id]);

  const state = timeline.state ?? session.data?.state;
  const live = state !== undefined && !finalStates.has(state);
  // Asked once the agent runs and on demand, not on a timer: each answer signs (and audits) new preview URLs.
  const serving = state === "running" || state === "idle";
  const ports = useResource(
    (signal) => (serving ? api.sessions.ports(props.id, signal) : Promise.resolve([])),
    `${props.id}:${serving}`,
  );

  const cancel = async () => {
    setCancelError(undefined);
    try {
      await api.sessions.cancel(props.id);
    } catch (error) {
      setCancelError(error);
    }
  };

  const value = session.data;
  return (
    <section>
      <h1>
        Session <span className="mono">{props.id}</span>
      </h1>
      <ErrorBanner error={session.error} />
      <dl className="facts">
        <dt>State</dt>
        <dd>
          <span className={`state state-${state ?? "unknown"}`} data-testid="session-state">
            {state ?? "…"}
          </span>
          {(timeline.exitCode ?? value?.exit_code ?? null) !== null && ` · exit ${timeline.exitCode ?? value?.exit_code}`}
          {value?.failure && ` · ${value.failure.reason}: ${value.failure.message}`}
        </dd>
        <dt>Provider</dt>
        <dd>{value?.provider}</dd>
        <dt>Sandbox</dt>
        <dd>{value?.sandbox_id ? <Link to={`/sandboxes/${value.sandbox_id}`}>{value.sandbox_id}</Link> : "–"}</dd>
        <dt>Started</dt>
        <dd>{age(value?.started_at ?? value?.created_at)} ago</dd>
        <dt>Cost</dt>
        <dd data-testid="session-cost">
          {usd((value?.cost_usd ?? 0) + Math.max(value?.usage.cost_usd ?? 0, timeline.modelCostUSD))} (machine {usd(value?.cost_usd)}, model{" "}
          {usd(Math.max(value?.usage.cost_usd ?? 0, timeline.modelCostUSD))})
        </dd>
        <dt>Stream</dt>
        <dd data-testid="stream-state">{stream}</dd>
      </dl>
      {live && (
        <button type="button" className="danger" onClick={() => void cancel()}>
          Cancel session
        </button>
      )}
      <ErrorBanner error={cancelError ?? streamError} />
      {value?.prompt && (
        <details>
          <summary>Prompt</summary>
          <pre>{value.prompt}</pre>
        </details>
      )}
      {live && (
        <>
          <h2>Waiting for approval</h2>
          <ApprovalTable sessionID={props.id} />
        </>
      )}
      <p>
        <Link to={`/audit?session_id=${encodeURIComponent(props.id)}`}>Audit trail of this session</Link>
      </p>
      <h2>Events</h2>
      <SessionTimelineView items={timeline.items} dropped={timeline.dropped} />
      <h2>Previews</h2>
      {serving && (
        <button type="button" className="secondary" onClick={ports.reload}>
          Refresh ports
        </button>
      )}
      <ErrorBanner error={ports.error} />
      {(ports.data ?? []).length === 0 ? (
        <p className="empty">No ports listening{serving ? "" : " (the agent is not running)"}.</p>
      ) : (
        <ul>
          {(ports.data ?? []).map((port) => (
            <li key={port.port}>
              <a href={port.host_url ?? port.url} target="_blank" rel="noopener noreferrer">
                port {port.port}
              </a>{" "}
              <span className="hint">
                (link valid until {port.expires_at}
                {port.host_url === undefined && "; served on this page's origin: set [previews] domain so previews run on origins of their own"})
              </span>
            </li>
          ))}
        </ul>
      )}
      <h2>Artifacts</h2>
      <ArtifactTable filter={{ sessionID: props.id }} refreshMs={live ? 5_000 : 30_000} />
    </section>
  );
}
