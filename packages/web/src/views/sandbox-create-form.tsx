import { useState, type FormEvent } from "react";
import type { CreateSandboxRequest, Sandbox } from "@ciab/protocol";
import { runtimeChoices } from "../choices.js";
import { useApi } from "../api-context.js";
import { ErrorBanner } from "../components/error-banner.js";

/** Runtime, image (the template) and timeout; the server's defaults for anything left empty. */
export function SandboxCreateForm(props: { onCreated(sandbox: Sandbox): void }) {
  const { api } = useApi();
  const [runtime, setRuntime] = useState("");
  const [image, setImage] = useState("");
  const [timeout, setTimeout] = useState("");
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const request: CreateSandboxRequest = {};
    if (runtime !== "") request.runtime = runtime as CreateSandboxRequest["runtime"];
    if (image.trim() !== "") request.image = image.trim();
    if (timeout.trim() !== "") request.timeout_secs = Number(timeout);
    setBusy(true);
    setError(undefined);
    try {
      props.onCreated(await api.sandboxes.create(request));
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="inline-form" onSubmit={submit} aria-label="Create a sandbox">
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
      <label>
        Image (template)
        <input name="image" value={image} placeholder="default" onChange={(event) => setImage(event.target.value)} />
      </label>
      <label>
        Timeout (s)
        <input name="timeout" type="number" min={1} value={timeout} placeholder="default" onChange={(event) => setTimeout(event.target.value)} />
      </label>
      <button type="submit" disabled={busy}>
        Create sandbox
      </button>
      <ErrorBanner error={error} />
    </form>
  );
}
