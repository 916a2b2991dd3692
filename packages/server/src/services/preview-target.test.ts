import { expect, test } from "vitest";
import { parsePreviewTarget } from "./preview-target.js";

const sid = "ses_01m8abd70k3039gdz20ccjsedt";

test("a path-based preview: prefix removed, token removed, cookie scoped to the prefix", () => {
  expect(parsePreviewTarget(`/sandbox/preview/${sid}/3000/app/x.js?token=abc&v=2`, "ciab.test", undefined)).toEqual({
    sessionID: sid,
    port: 3000,
    upstreamPath: "/app/x.js?v=2",
    queryToken: "abc",
    cookiePath: `/sandbox/preview/${sid}/3000/`,
    cleanURL: `/sandbox/preview/${sid}/3000/app/x.js?v=2`,
    prefix: `/sandbox/preview/${sid}/3000`,
    slashRedirect: undefined,
  });
  expect(parsePreviewTarget(`/sandbox/preview/${sid}/3000?token=abc`, undefined, undefined)?.slashRedirect).toBe(`/sandbox/preview/${sid}/3000/?token=abc`);
});

test("a host-based preview needs the configured domain; its port may follow the host", () => {
  const target = parsePreviewTarget("/a?b=1", `3000-${sid}.preview.test:8420`, "preview.test");
  expect(target).toMatchObject({ sessionID: sid, port: 3000, upstreamPath: "/a?b=1", cookiePath: "/", prefix: undefined });
  expect(parsePreviewTarget("/a", `3000-${sid}.preview.test`, undefined)).toBeUndefined();
  expect(parsePreviewTarget("/a", `nope.preview.test`, "preview.test")).toBeUndefined();
});

test("anything else is not a preview", () => {
  for (const url of ["/api/v1/health", "/sandbox/preview/", `/sandbox/preview/${sid}/0/`, `/sandbox/preview/${sid}/70000/`, "/sandbox/preview/sbx_1/80/", `/sandbox/preview/${sid}/80x/`]) {
    expect(parsePreviewTarget(url, "ciab.test", "preview.test"), url).toBeUndefined();
  }
});
