import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { makeTempDirectory } from "../../../../test/harness/temp-directory.js";
import { createMachineDownloadSigner } from "../services/machine-download-signer.js";
import { machineDownloadRoutes } from "./machine-downloads.js";
import { toErrorResponse } from "./error-handler.js";
import { createSilentLogger } from "../logger.js";

describe("machine downloads", () => {
  const directory = makeTempDirectory("ciab-downloads-");
  const files = { node: path.join(directory.path, "node"), agentd: path.join(directory.path, "agentd.mjs") };
  writeFileSync(files.node, "node binary");
  writeFileSync(files.agentd, "agentd bundle");
  afterAll(() => directory.remove());
  let clock = Date.parse("2026-01-01T00:00:00Z");
  const signer = createMachineDownloadSigner({
    publicURL: "https://ciab.example.com/",
    key: randomBytes(32),
    ttlSeconds: 60,
    now: () => clock,
  });
  const app = machineDownloadRoutes({ signer, files });
  app.onError((error, c) => toErrorResponse(error, c, createSilentLogger()));
  const get = (url: string) => app.request(url.replace("https://ciab.example.com", ""));

  test("a signed URL serves its file until it expires", async () => {
    const urls = signer.urls("sbx_one");
    expect(urls.node).toMatch(/^https:\/\/ciab\.example\.com\/machine-downloads\/node\?sandbox=sbx_one&expires=\d+&signature=/);
    const answer = await get(urls.agentd);
    expect(answer.status).toBe(200);
    expect(await answer.text()).toBe("agentd bundle");
    expect((await get(urls.node)).headers.get("content-length")).toBe(String("node binary".length));
    clock += 61_000;
    const expired = await get(urls.node);
    expect(expired.status).toBe(401);
    expect(await expired.json()).toMatchObject({ error: { code: "unauthorized", message: "the download URL has expired" } });
  });

  test("a signature is good only for its own file, sandbox and expiry", async () => {
    const urls = signer.urls("sbx_two");
    const swapped = urls.node.replace("/machine-downloads/node", "/machine-downloads/agentd");
    const otherSandbox = urls.node.replace("sandbox=sbx_two", "sandbox=sbx_three");
    const later = urls.node.replace(/expires=(\d+)/, (_, expires: string) => `expires=${Number(expires) + 3600}`);
    for (const url of [swapped, otherSandbox, later, urls.node.replace(/signature=.*/, "signature=")]) {
      expect((await get(url)).status, url).toBe(401);
    }
    expect((await get(urls.node.replace("/node?", "/passwd?"))).status).toBe(404);
  });
});
