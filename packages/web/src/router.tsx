import { useEffect, useState, type MouseEvent, type ReactNode } from "react";

/** Client-side pages on the History API; the server answers index.html for any of them. */
export function navigate(to: string): void {
  if (to === location.pathname) return;
  history.pushState(null, "", to);
  dispatchEvent(new PopStateEvent("popstate"));
}

export function usePath(): string {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const update = () => setPath(location.pathname);
    addEventListener("popstate", update);
    return () => removeEventListener("popstate", update);
  }, []);
  return path;
}

export type Route =
  | { page: "sandboxes" }
  | { page: "sandbox"; id: string }
  | { page: "sessions" }
  | { page: "session"; id: string }
  | { page: "artifacts" }
  | { page: "usage" }
  | { page: "approvals" }
  | { page: "audit" }
  | { page: "not-found" };

const idPattern = /^[a-z]+_[0-9a-z]+$/;

export function routeOf(path: string): Route {
  const [first = "", second, ...rest] = path.split("/").filter(Boolean);
  if (rest.length > 0) return { page: "not-found" };
  if (first === "" || first === "sandboxes") {
    if (second === undefined) return { page: "sandboxes" };
    return idPattern.test(second) ? { page: "sandbox", id: second } : { page: "not-found" };
  }
  if (first === "sessions") {
    if (second === undefined) return { page: "sessions" };
    return idPattern.test(second) ? { page: "session", id: second } : { page: "not-found" };
  }
  if (first === "artifacts" && second === undefined) return { page: "artifacts" };
  if (first === "usage" && second === undefined) return { page: "usage" };
  if (first === "approvals" && second === undefined) return { page: "approvals" };
  if (first === "audit" && second === undefined) return { page: "audit" };
  return { page: "not-found" };
}

export function Link(props: { to: string; children: ReactNode; className?: string; current?: boolean }) {
  const follow = (event: MouseEvent<HTMLAnchorElement>) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(props.to);
  };
  return (
    <a href={props.to} onClick={follow} className={props.className} aria-current={props.current ? "page" : undefined}>
      {props.children}
    </a>
  );
}
