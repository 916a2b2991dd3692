import type { Handler } from "../http/agent-request.js";
import { respondJSON } from "../http/respond.js";
import type { PortService } from "../services/port-service.js";

export function createPortHandler(ports: PortService): Handler {
  return async ({ stream }) => {
    respondJSON(stream, { ports: await ports.list() });
  };
}
