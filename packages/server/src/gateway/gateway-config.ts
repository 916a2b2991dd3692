import { CiabError } from "@ciab/protocol";
import type { GatewaySectionConfig } from "../config/config-schema.js";

export const gatewayAPIs = ["anthropic", "openai", "google"] as const;
export type GatewayAPI = (typeof gatewayAPIs)[number];

/** The `[gateway]` config section: each API's upstream base URL. */
export type GatewayConfig = GatewaySectionConfig;

export function isGatewayAPI(value: string): value is GatewayAPI {
  return (gatewayAPIs as readonly string[]).includes(value);
}

export function upstreamBaseURL(config: GatewayConfig, api: GatewayAPI): string {
  if (api === "anthropic") return config.anthropic_base_url;
  if (api === "openai") return config.openai_base_url;
  return config.google_base_url;
}

/**
 * The upstream URL for a request path (after `/<api>`) and raw query (without `?`).
 *
 * The rule: the request path is appended to the base URL's path, except that where the base path ends with
 * the segments the request path starts with, those segments are written once. So an agent told
 * `http://127.0.0.1:<port>/openai/v1` (the OpenAI SDK convention) sends `/openai/v1/chat/completions`, which
 * reaches `…/v1/chat/completions` whether `openai_base_url` is `https://api.openai.com` or
 * `https://api.openai.com/v1`; a base with a proxy prefix (`https://proxy/llm/v1`) keeps its prefix.
 * The query is passed on byte for byte (never re-encoded).
 */
export function joinUpstreamURL(baseURL: string, path: string, rawQuery: string): URL {
  const base = new URL(baseURL);
  const baseSegments = base.pathname.split("/").filter(Boolean);
  const pathSegments = path.split("/").filter(Boolean);
  // URL resolves `..` (and `%2e%2e`): it would climb out of a configured base path with the real key.
  if (pathSegments.some((segment) => /^(\.|%2e){1,2}$/i.test(segment))) {
    throw new CiabError("invalid_path", "the gateway takes no . or .. path segments");
  }
  let overlap = Math.min(baseSegments.length, pathSegments.length);
  while (overlap > 0 && !sameSegments(baseSegments.slice(-overlap), pathSegments.slice(0, overlap))) overlap -= 1;
  const trailingSlash = path.endsWith("/") && pathSegments.length > 0 ? "/" : "";
  const joined = [...baseSegments, ...pathSegments.slice(overlap)].join("/");
  const url = new URL(base.origin);
  url.pathname = `/${joined}${trailingSlash}`;
  url.search = rawQuery === "" ? "" : `?${rawQuery}`;
  return url;
}

function sameSegments(left: string[], right: string[]): boolean {
  return left.every((segment, index) => segment === right[index]);
}
