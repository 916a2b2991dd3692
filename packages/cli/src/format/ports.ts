import type { SessionPort } from "@ciab/protocol";
import { formatTable } from "./table.js";

/** One row per port: the port, its preview URL (and host URL with a preview domain), when the token expires. */
export function formatSessionPorts(ports: readonly SessionPort[]): string {
  if (ports.length === 0) return "no ports listening";
  const withHost = ports.some((port) => port.host_url !== undefined);
  const headers = withHost ? ["PORT", "URL", "HOST URL", "EXPIRES"] : ["PORT", "URL", "EXPIRES"];
  return formatTable(
    headers,
    ports.map((port) => [String(port.port), port.url, ...(withHost ? [port.host_url ?? "-"] : []), port.expires_at]),
  );
}
