import { randomBytes } from "node:crypto";
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { makeTempDirectory } from "../../../../test/harness/temp-directory.js";
import { MachineConfigOffers } from "../services/machine-config-offers.js";
import { createMachineDownloadSigner } from "../services/machine-download-signer.js";
import { createToolsArchiver } from "../services/tools-archive.js";
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
  const toolsDirectory = path.join(directory.path, "tools");
  mkdirSync(path.join(toolsDirectory, "node_modules", "agent"), { recursive: true });
  writeFileSync(path.join(toolsDirectory, "package-lock.json"), "{}");
  writeFileSync(path.join(toolsDirectory, "node_modules", "agent", "cli.js"), "the agent");
  const configs = new MachineConfigOffers(signer, () => clock);
  const toolsArchive = createToolsArchiver(toolsDirectory, path.join(directory.path, "cache"));
  const app = machineDownloadRoutes({ signer, files, toolsArchive, configs });
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

  test("the tools dir comes as a tarball, built once per state of its lock file", async () => {
    const urls = signer.urls("sbx_tools");
    const answer = await get(urls.tools);
    expect(answer.status).toBe(200);
    const etag = answer.headers.get("etag");
    const archive = path.join(directory.path, "tools.tar");
    writeFileSync(archive, Buffer.from(await answer.arrayBuffer()));
    expect(execFileSync("tar", ["-t", "-f", archive], { encoding: "utf8" })).toContain("./node_modules/agent/cli.js");
    expect((await get(urls.tools)).headers.get("etag")).toBe(etag);
    writeFileSync(path.join(toolsDirectory, "package-lock.json"), '{ "changed": true }');
    expect((await get(urls.tools)).headers.get("etag")).not.toBe(etag);
  });

  test("a config URL serves once, and not after it expires", async () => {
    const url = configs.offer("sbx_config", { env: { SECRET: "s3cret" } });
    const first = await get(url);
    expect(first.status).toBe(200);
    expect(first.headers.get("cache-control")).toBe("no-store");
    expect(await first.json()).toEqual({ env: { SECRET: "s3cret" } });
    const again = await get(url);
    expect(again.status).toBe(401);
    expect(await again.text()).not.toContain("s3cret");
    const late = configs.offer("sbx_late", { env: { A: "1" } });
    clock += 61_000;
    expect((await get(late)).status).toBe(401);
    // A newer offer for the sandbox replaces the older one, whose URL is then dead.
    const older = configs.offer("sbx_twice", { env: { A: "1" } });
    clock += 1_000;
    const newer = configs.offer("sbx_twice", { env: { A: "2" } });
    expect((await get(older)).status).toBe(401);
    expect(await (await get(newer)).json()).toEqual({ env: { A: "2" } });
    // A config URL's signature does not open another file, nor another sandbox's config.
    expect((await get(newer.replace("/config?", "/node?"))).status).toBe(401);
  });
});
