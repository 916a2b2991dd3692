import { chromium, type BrowserContext } from "playwright-core";
import { makeTempDirectory } from "./temp-directory.js";

export const chromiumPath = process.env.CIAB_TEST_CHROMIUM ?? "/usr/bin/chromium";

/**
 * Debian's chromium, headless, in a fresh profile. Without the background-networking flags it calls
 * Google's services at start, which this machine's closed network refuses (and tests send nothing off
 * loopback).
 */
const chromiumArgs = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface TestBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** One browser for a test file; each test opens its own page (a new tab: sessionStorage starts empty). */
export async function launchChromium(): Promise<TestBrowser> {
  const profile = makeTempDirectory("ciab-chromium-");
  // Playwright passes the profile as --user-data-dir; giving the flag ourselves is refused.
  const context = await chromium.launchPersistentContext(profile.path, {
    executablePath: chromiumPath,
    headless: true,
    args: chromiumArgs,
    acceptDownloads: true,
    timeout: 30_000,
  });
  return {
    context,
    async close() {
      await context.close().catch(() => undefined);
      profile.remove();
    },
  };
}
