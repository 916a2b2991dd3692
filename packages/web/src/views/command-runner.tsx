import { useState, type FormEvent } from "react";
import type { ExecResultBody } from "@ciab/protocol";
import { useApi } from "../api-context.js";
import { ErrorBanner } from "../components/error-banner.js";

/** Runs one shell command in the sandbox and shows what it printed; the output is the sandbox's, shown as text. */
export function CommandRunner(props: { sandboxID: string; disabled: boolean }) {
  const { api } = useApi();
  const [command, setCommand] = useState("");
  const [result, setResult] = useState<ExecResultBody>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  const run = async (event: FormEvent) => {
    event.preventDefault();
    if (command.trim() === "") return;
    setBusy(true);
    setError(undefined);
    setResult(undefined);
    try {
      setResult(await api.sandboxes.exec(props.sandboxID, command));
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="command-runner">
      <h2>Run a command</h2>
      <form className="inline-form" onSubmit={run} aria-label="Run a command">
        <input
          name="command"
          className="mono wide"
          placeholder="ls -la /workspace"
          value={command}
          onChange={(event) => setCommand(event.target.value)}
          disabled={props.disabled}
        />
        <button type="submit" disabled={busy || props.disabled}>
          {busy ? "Running…" : "Run"}
        </button>
      </form>
      <ErrorBanner error={error} />
      {result && (
        <div className="exec-result" data-testid="exec-result">
          <p>
            exit code <strong data-testid="exit-code">{result.exit_code ?? `signal ${result.signal ?? "?"}`}</strong> · {result.duration_ms} ms
            {result.timed_out && " · timed out"}
            {result.truncated && " · output truncated"}
          </p>
          <h3>stdout</h3>
          <pre data-testid="stdout">{result.stdout}</pre>
          {result.stderr !== "" && (
            <>
              <h3>stderr</h3>
              <pre className="stderr" data-testid="stderr">
                {result.stderr}
              </pre>
            </>
          )}
        </div>
      )}
    </section>
  );
}
