import { z } from "zod";

/** One port listening in a session's sandbox, with a freshly signed preview URL. */
export const sessionPortSchema = z.object({
  port: z.number().int().min(1).max(65535),
  /** `<origin>/sandbox/preview/<session_id>/<port>/?token=<jwt>`. */
  url: z.string(),
  /** `<scheme>://<port>-<session_id>.<domain>/?token=<jwt>`, when the server has a `[previews] domain`. */
  host_url: z.string().optional(),
  /** When the token in the URLs stops working (ISO 8601). */
  expires_at: z.string(),
});

export const sessionPortsSchema = z.object({ ports: z.array(sessionPortSchema) });

export type SessionPort = z.infer<typeof sessionPortSchema>;
export type SessionPorts = z.infer<typeof sessionPortsSchema>;
