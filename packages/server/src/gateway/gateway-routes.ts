import type { GatewayAPI } from "./gateway-config.js";

interface Route {
  method: "GET" | "POST";
  /** Matched against the whole path after `/<api>`, segments already checked by gateway-path.ts. */
  path: RegExp;
}

/** A model id as it appears in a path: no slash (the path checks ensure it), no escapes needed. */
const model = "[A-Za-z0-9][A-Za-z0-9._~@+-]*";

/**
 * The upstream routes each API's agents need, and nothing else: generation, token counting and the model
 * list. Everything else an upstream offers (files, batches, fine-tuning, admin and organisation routes) is
 * out of reach of a sandbox even though the gateway holds the workspace's key. The optional `/v1` covers
 * agents given a base URL that already ends in `/v1`.
 */
export const gatewayRoutes: Record<GatewayAPI, readonly Route[]> = {
  anthropic: [
    { method: "POST", path: /^(\/v1)?\/messages$/ },
    { method: "POST", path: /^(\/v1)?\/messages\/count_tokens$/ },
    { method: "GET", path: /^(\/v1)?\/models$/ },
    { method: "GET", path: new RegExp(`^(/v1)?/models/${model}$`) },
  ],
  openai: [
    { method: "POST", path: /^(\/v1)?\/chat\/completions$/ },
    { method: "POST", path: /^(\/v1)?\/responses$/ },
    { method: "POST", path: /^(\/v1)?\/responses\/compact$/ },
    { method: "GET", path: /^(\/v1)?\/models$/ },
    { method: "GET", path: new RegExp(`^(/v1)?/models/${model}$`) },
  ],
  google: [
    {
      method: "POST",
      path: new RegExp(`^/v1(beta|alpha)?/models/${model}:(generateContent|streamGenerateContent|countTokens|embedContent|batchEmbedContents)$`),
    },
    { method: "GET", path: /^\/v1(beta|alpha)?\/models$/ },
    { method: "GET", path: new RegExp(`^/v1(beta|alpha)?/models/${model}$`) },
  ],
};

/** Whether `method path` (path after `/<api>`, no query) is on the API's list. */
export function isAllowedRoute(api: GatewayAPI, method: string | undefined, path: string): boolean {
  return gatewayRoutes[api].some((route) => route.method === method && route.path.test(path));
}
