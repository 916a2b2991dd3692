import { expect, test } from "vitest";
import { loadConfig } from "./load-config.js";

test("[previews] defaults, the seed's CIAB_PREVIEW_TOKEN_TTL alias, and a bad domain named by its key", () => {
  expect(loadConfig({ env: {} }).previews).toEqual({ token_ttl_seconds: 600, max_streams_per_session: 64 });
  const config = loadConfig({ env: { CIAB_PREVIEW_TOKEN_TTL: "90", CIAB_PREVIEWS_DOMAIN: "preview.example.com" } });
  expect(config.previews).toMatchObject({ token_ttl_seconds: 90, domain: "preview.example.com" });
  expect(() => loadConfig({ env: { CIAB_PREVIEWS_DOMAIN: "http://x/" } })).toThrow(/previews\.domain|CIAB_PREVIEWS_DOMAIN/);
});
