import { createHmac, timingSafeEqual } from "node:crypto";
import { CiabError } from "@ciab/protocol";
import type { MachineDownloads } from "../runtimes/runtime.js";

/**
 * What a machine with nothing installed downloads from the control plane: node, agentd, the agent CLIs (the
 * tools dir as a tarball) and its own config (served once, services/machine-config-offers.ts).
 */
export const machineFiles = ["node", "agentd", "tools", "config"] as const;
export type MachineFile = (typeof machineFiles)[number];

export interface SignedQuery {
  sandbox: string;
  expires: number;
  signature: string;
}

export interface MachineDownloadSigner {
  /** Signed URLs for one sandbox's machine, good for the signer's time to live. */
  urls(sandboxID: string): MachineDownloads;
  /** One signed URL, good until `expires` (seconds since the epoch). */
  url(file: MachineFile, sandboxID: string, expires: number): string;
  /** When a URL signed now expires, in seconds since the epoch. */
  expiry(): number;
  /** Throws `unauthorized` unless the query is a live signature for `file`. */
  verify(file: MachineFile, query: SignedQuery): void;
}

export interface MachineDownloadSignerOptions {
  /** `[server] public_url`: how instances reach the control plane. */
  publicURL: string;
  key: Buffer;
  /** Long enough for a slow boot to reach its downloads; a leaked URL is useless soon after. */
  ttlSeconds?: number;
  now?: () => number;
}

/**
 * HMAC-signed, expiring URLs for the files a plain AMI needs (node, agentd, the tools): the route that serves them
 * takes no token, since user-data is the only way to hand one to a new instance, and user-data is readable
 * by more principals than a token should be.
 */
export function createMachineDownloadSigner(options: MachineDownloadSignerOptions): MachineDownloadSigner {
  const ttlSeconds = options.ttlSeconds ?? 20 * 60;
  const now = options.now ?? (() => Date.now());
  const base = options.publicURL.replace(/\/+$/, "");
  const sign = (file: MachineFile, sandbox: string, expires: number): string =>
    createHmac("sha256", options.key).update(`${file}\n${sandbox}\n${expires}`).digest("base64url");
  const url = (file: MachineFile, sandbox: string, expires: number): string => {
    const query = new URLSearchParams({ sandbox, expires: String(expires), signature: sign(file, sandbox, expires) });
    return `${base}/machine-downloads/${file}?${query}`;
  };
  return {
    urls(sandboxID) {
      const expires = Math.floor(now() / 1000) + ttlSeconds;
      return { node: url("node", sandboxID, expires), agentd: url("agentd", sandboxID, expires), tools: url("tools", sandboxID, expires) };
    },
    url,
    expiry: () => Math.floor(now() / 1000) + ttlSeconds,
    verify(file, query) {
      const expected = Buffer.from(sign(file, query.sandbox, query.expires));
      const given = Buffer.from(query.signature);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        throw new CiabError("unauthorized", "the download URL's signature is not valid");
      }
      if (query.expires * 1000 < now()) throw new CiabError("unauthorized", "the download URL has expired");
    },
  };
}
