import { useState, type FormEvent } from "react";
import type { CreateSessionRequest, Session } from "@ciab/protocol";
import { useApi } from "../api-context.js";
import { providerChoices, runtimeChoices } from "../choices.js";
import { ErrorBanner } from "../components/error-banner.js";

/** Provider, prompt and an optional repo; the session gets a sandbox of its own on the chosen runtime. */
export function SessionStartForm(props: { onStarted(session: Session): void }) {
  const { api } = useApi();
  const [provider, setProvider] = useState<CreateSessionRequest["provider"]>("claude-code");
  const [prompt, setPrompt] = useState("");
  const [repo, setRepo] = useState("");
  const [runtime, setRuntime] = useState("");
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const request: CreateSessionRequest = { provider };
    if (prompt.trim() !== "") request.prompt = prompt;
    if (repo.trim() !== "") request.repo = { url: repo.trim() };
    if (runtime !== "") request.runtime = runtime as CreateSessionRequest["runtime"];
    setBusy(true);
    setError(undefined);
    try {
      props.onStarted(await api.sessions.create(request));
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="stacked-form" onSubmit={submit} aria-label="Start a session">
      <div className="inline-form">
        <label>
          Provider
          <select name="provider" value={provider} onChange={(event) => setProvider(event.target.value as CreateSessionRequest["provider"])}>
            {providerChoices.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Runtime
          <select name="runtime" value={runtime} onChange={(event) => setRuntime(event.target.value)}>
            <option value="">server default</option>
            {runtimeChoices.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <label className="grow">
          Repository (optional)
          <input name="repo" className="mono" placeholder="https://github.com/owner/repo.git" value={repo} onChange={(event) => setRepo(event.target.value)} />
        </label>
      </div>
      <label>
        Prompt
        <textarea name="prompt" rows={3} value={prompt} onChange={(event) => setPrompt(event.target.value)} />
      </label>
      <p className="hint">For the shell agent, the prompt is a command. Without a prompt the session is interactive.</p>
      <div>
        <button type="submit" disabled={busy}>
          {busy ? "Starting…" : "Start session"}
        </button>
      </div>
      <ErrorBanner error={error} />
    </form>
  );
}
