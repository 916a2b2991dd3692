import type { TimelineItem } from "../session-timeline.js";

/** The session's events as they arrived; every text is rendered as text. */
export function SessionTimelineView(props: { items: TimelineItem[]; dropped: number }) {
  return (
    <ol className="timeline" aria-label="Events" aria-live="polite">
      {props.dropped > 0 && <li className="hint">{props.dropped} earlier lines not shown</li>}
      {props.items.map((item) => (
        <li key={item.seq} className={`event event-${item.kind}`} data-kind={item.kind}>
          <ItemBody item={item} />
        </li>
      ))}
    </ol>
  );
}

function ItemBody(props: { item: TimelineItem }) {
  const { item } = props;
  switch (item.kind) {
    case "state":
      return (
        <span>
          state → <strong className={`state state-${item.state}`}>{item.state}</strong>
          {item.detail && ` · ${item.detail}`}
        </span>
      );
    case "message":
      return <p className="message">{item.text}</p>;
    case "thinking":
      return <p className="thinking">{item.text}</p>;
    case "tool-call":
      return (
        <div>
          <span className="tag">tool</span> <strong>{item.name}</strong> <code className="mono">{item.input}</code>
        </div>
      );
    case "tool-result":
      return <pre className={item.isError ? "stderr" : undefined}>{item.output}</pre>;
    case "output":
      return (
        <pre className={item.stream === "stderr" ? "stderr" : undefined} data-stream={item.stream}>
          {item.text}
        </pre>
      );
    case "result":
      return (
        <div className={item.isError ? "error" : "result"}>
          <span className="tag">result</span> {item.text}
        </div>
      );
    case "usage":
      return (
        <span className="hint">
          <span className="tag">usage</span> {item.text}
        </span>
      );
    case "note":
      return <span className={item.isError ? "error" : "hint"}>{item.text}</span>;
  }
}
