import { useCallback, useEffect, useMemo, useState } from "react";
import type { WhoAmI } from "@ciab/protocol";
import { createApiClient } from "./api/api-client.js";
import { ApiContext } from "./api-context.js";
import { forgetToken, loadToken, saveToken } from "./token-store.js";
import { Link, routeOf, usePath, type Route } from "./router.js";
import { SignIn } from "./views/sign-in.js";
import { SandboxesPage } from "./views/sandboxes-page.js";
import { SandboxPage } from "./views/sandbox-page.js";
import { SessionsPage } from "./views/sessions-page.js";
import { SessionPage } from "./views/session-page.js";
import { ArtifactsPage } from "./views/artifacts-page.js";
import { UsagePage } from "./views/usage-page.js";
import { ApprovalsPage } from "./views/approvals-page.js";
import { AuditPage } from "./views/audit-page.js";
import { PendingApprovalsBadge } from "./components/pending-approvals-badge.js";

type SignInState = { token: string; whoami: WhoAmI } | { token: undefined; notice?: string } | "checking";

export function App() {
  const [state, setState] = useState<SignInState>(() => (loadToken() === undefined ? { token: undefined } : "checking"));

  const signOut = useCallback((notice?: string) => {
    forgetToken();
    setState({ token: undefined, ...(notice !== undefined && { notice }) });
  }, []);

  // A token kept from earlier in this tab is checked again: it may have been revoked meanwhile.
  useEffect(() => {
    if (state !== "checking") return;
    const token = loadToken();
    if (token === undefined) return setState({ token: undefined });
    createApiClient(token)
      .whoami()
      .then((whoami) => setState({ token, whoami }))
      .catch((error: Error) => signOut(`Signed out: ${error.message}`));
  }, [state, signOut]);

  if (state === "checking") return <p className="loading">Checking the token…</p>;
  if (state.token === undefined) {
    return (
      <SignIn
        notice={state.notice}
        onSignedIn={(token, whoami) => {
          saveToken(token);
          setState({ token, whoami });
        }}
      />
    );
  }
  return (
    <SignedInLayout
      token={state.token}
      whoami={state.whoami}
      onSignOut={signOut}
    />
  );
}

function SignedInLayout(props: { token: string; whoami: WhoAmI; onSignOut(notice?: string): void }) {
  const path = usePath();
  const route = routeOf(path);
  const { onSignOut } = props;
  // A token revoked or expired while the page is open signs the tab out at the first refusal.
  const signedIn = useMemo(
    () => ({ api: createApiClient(props.token, { onUnauthorized: (error) => onSignOut(`Signed out: ${error.message}`) }), whoami: props.whoami }),
    [props.token, props.whoami, onSignOut],
  );
  const { whoami } = props;
  return (
    <ApiContext.Provider value={signedIn}>
      <header>
        <strong className="brand">ciab</strong>
        <nav>
          <Link to="/sandboxes" current={route.page === "sandboxes" || route.page === "sandbox"}>
            Sandboxes
          </Link>
          <Link to="/sessions" current={route.page === "sessions" || route.page === "session"}>
            Sessions
          </Link>
          <Link to="/artifacts" current={route.page === "artifacts"}>
            Artifacts
          </Link>
          <Link to="/approvals" current={route.page === "approvals"}>
            Approvals
          </Link>
          <PendingApprovalsBadge />
          <Link to="/audit" current={route.page === "audit"}>
            Audit
          </Link>
          <Link to="/usage" current={route.page === "usage"}>
            Usage
          </Link>
        </nav>
        <span className="whoami" data-testid="whoami">
          {whoami.user_name} · {whoami.workspace_name} · {whoami.role}
          {whoami.installation_admin ? " (installation admin)" : ""}
        </span>
        <button type="button" className="secondary" onClick={() => onSignOut()}>
          Sign out
        </button>
      </header>
      <main>
        <Page route={route} />
      </main>
    </ApiContext.Provider>
  );
}

function Page(props: { route: Route }) {
  const { route } = props;
  switch (route.page) {
    case "sandboxes":
      return <SandboxesPage />;
    case "sandbox":
      return <SandboxPage key={route.id} id={route.id} />;
    case "sessions":
      return <SessionsPage />;
    case "session":
      return <SessionPage key={route.id} id={route.id} />;
    case "artifacts":
      return <ArtifactsPage />;
    case "usage":
      return <UsagePage />;
    case "approvals":
      return <ApprovalsPage />;
    case "audit":
      return <AuditPage />;
    case "not-found":
      return <p>No such page.</p>;
  }
}
