import type { GatewayAPI } from "./gateway-config.js";

/**
 * The model gateway: agents in a sandbox call `http://127.0.0.1:<gatewayPort>/<api>/…` with a per-session
 * token as their API key; agentd relays the bytes to `<run>/gateway.sock` on the host, where the gateway
 * swaps the token for the workspace's real key, forwards to the provider and meters the usage.
 * These are the two things the gateway needs from the rest of the control plane.
 */

/** Token and token usage per session; implemented by the session service. */
export interface GatewaySessions {
  /**
   * The session a gateway token belongs to. Answers undefined when the token is unknown, expired, or
   * belongs to a session of another sandbox than `sandboxID` (the socket the request came in on), so a
   * token leaked from one sandbox is useless in any other. `apis` are the model APIs the session's agent
   * speaks; its token is refused on the others' routes.
   */
  resolve(sandboxID: string, token: string): Promise<{ sessionID: string; workspaceID: string; apis: readonly GatewayAPI[] } | undefined>;
  /** Whether the session may no longer call models (budget reached, cancelled, ended); checked per request. */
  isCutOff(sessionID: string): boolean;
  /**
   * Called once per upstream response that reported usage, after its last byte (or when it was cut short,
   * with what had been reported by then). Must not throw; it runs on the streaming path.
   */
  recordUsage(sessionID: string, usage: GatewayUsage): void;
}

/** The workspace's provider keys; implemented by the secrets service. */
export interface GatewaySecrets {
  /**
   * A secret of a workspace by name: `ANTHROPIC_API_KEY`, `OPENAI_API_KEY` or `GEMINI_API_KEY`.
   * Undefined when unset, in which case the request is forwarded without a key.
   */
  get(workspaceID: string, name: string): Promise<string | undefined>;
}

/**
 * The tokens of one model response. `input_tokens` counts uncached input only (Anthropic's convention);
 * for OpenAI and Google, whose prompt counts include cached tokens, the cached part is moved to
 * `cache_read_tokens`. `output_tokens` includes reasoning/thinking tokens.
 */
export interface GatewayUsage {
  api: GatewayAPI;
  /** The model the provider answered with (e.g. `claude-sonnet-4-5-20250929`), or `unknown`. */
  model: string;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  /** From model-prices.ts; 0 for a model not in the table. */
  cost_usd: number;
}

/** The secret that holds each API's real key. */
export const gatewaySecretNames: Record<GatewayAPI, string> = {
  anthropic: "ANTHROPIC_API_KEY",
  openai: "OPENAI_API_KEY",
  google: "GEMINI_API_KEY",
};
