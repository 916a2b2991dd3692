import { errorMessage } from "../api/api-error.js";

/** An error as the API worded it; role=alert so it is announced and tests find it. */
export function ErrorBanner(props: { error: unknown }) {
  if (props.error === undefined || props.error === null) return null;
  return (
    <p role="alert" className="error">
      {errorMessage(props.error)}
    </p>
  );
}
