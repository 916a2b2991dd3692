import { useState, type FormEvent } from "react";
import type { WhoAmI } from "@ciab/protocol";
import { createApiClient } from "../api/api-client.js";
import { ErrorBanner } from "../components/error-banner.js";

/** Asks for a token and checks it with `whoami` before keeping it. */
export function SignIn(props: { onSignedIn(token: string, whoami: WhoAmI): void; notice?: string | undefined }) {
  const [token, setToken] = useState("");
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const trimmed = token.trim();
    if (trimmed === "") return;
    setBusy(true);
    setError(undefined);
    try {
      props.onSignedIn(trimmed, await createApiClient(trimmed).whoami());
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="sign-in">
      <h1>ciab</h1>
      <form onSubmit={submit}>
        <label htmlFor="token">API token</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="off"
          spellCheck={false}
          placeholder="ciab_…"
          value={token}
          onChange={(event) => setToken(event.target.value)}
        />
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
      <p className="hint">
        The server's first admin token is in <code>.ciab/admin-token</code> of its data dir; <code>ciab token create</code> makes
        others. It is kept in this tab only.
      </p>
      {props.notice && <p className="notice">{props.notice}</p>}
      <ErrorBanner error={error} />
    </main>
  );
}
