import { randomBytes } from "node:crypto";
import type { Readable } from "node:stream";
import { CiabError } from "@ciab/protocol";
import type { ArtifactStore } from "../artifacts/artifact-store.js";
import { signDownload, verifyDownload } from "../artifacts/download-signature.js";
import type { DataKey } from "../data-key.js";
import type { ArtifactRecord } from "../store/records.js";
import type { Store } from "../store/store.js";
import { hasPrefix } from "../ids.js";
import type { Principal } from "./auth-service.js";

export interface DownloadLinksDependencies {
  store: Store;
  artifactStore: ArtifactStore;
  /** Seals the signing key in the store's meta: the store holds every id a URL names, so a copy of it must not sign. */
  dataKey: DataKey;
  /** `[artifacts] url_ttl_seconds`. */
  urlTTLSeconds: number;
  /** `[artifacts] download_limit_bytes_per_hour`. */
  limitBytesPerHour: number;
  now?: () => Date;
}

/** What a signed download URL carries besides the artifact id. */
export interface DownloadQuery {
  user: string;
  expires: number;
  signature: string;
  /** The API token the URL was issued to: the URL works while it does. */
  token?: string | undefined;
}

/** `holder`: the token the URL was issued to, whose revoke must cut the download in flight. */
export type Download =
  | { kind: "stream"; artifact: ArtifactRecord; stream: Readable; holder?: Principal | undefined }
  | { kind: "redirect"; artifact: ArtifactRecord; url: string };

/** API tokens, as opposed to the principals of the gateway, approvals and the loops, which hold none. */
const apiTokenID = /^tok_[0-9a-z]{26}$/;

const signingKeyName = "artifact_download_sealed_key";

/**
 * Signed download URLs of artifacts and snapshots, and the per-user hourly byte limit. The URL names the
 * user it was issued to; each download counts against that user's hour in the store (so restarts and
 * replicas share the count). A URL asked for with an API token names that token too and dies with it
 * (decision 0045). With S3 the route redirects to a presigned URL of a minute, after counting.
 */
export function createDownloadLinks(dependencies: DownloadLinksDependencies) {
  const { store, artifactStore } = dependencies;
  const now = dependencies.now ?? (() => new Date());
  let key: Buffer | undefined;

  async function signingKey(): Promise<Buffer> {
    const { dataKey } = dependencies;
    key ??= Buffer.from(dataKey.open(await store.meta.setIfAbsent(signingKeyName, dataKey.seal(randomBytes(32).toString("base64")))), "base64");
    return key;
  }

  return {
    /** A URL for the caller: bound to their token, or for the artifact's owner when the caller holds none. */
    async link(artifact: ArtifactRecord, caller: Principal, origin: string): Promise<{ url: string; expiresAt: string }> {
      const expires = Math.floor(now().getTime() / 1000) + dependencies.urlTTLSeconds;
      const token = apiTokenID.test(caller.tokenID) ? caller.tokenID : undefined;
      const userID = token ? caller.userID : artifact.userID;
      const signature = signDownload(await signingKey(), signedText(artifact.id, userID, token), expires);
      const query = new URLSearchParams({ user: userID, expires: String(expires), signature, ...(token && { token }) });
      const route = artifact.kind === "snapshot" ? "snapshots" : "artifacts";
      return {
        url: `${origin}/api/v1/${route}/${artifact.id}/download?${query}`,
        expiresAt: new Date(expires * 1000).toISOString(),
      };
    },

    /** Checks the signature and the limit, then opens the bytes (or presigns them). */
    async open(id: string, query: DownloadQuery): Promise<Download> {
      if (!hasPrefix(query.user, "usr") || (query.token !== undefined && !hasPrefix(query.token, "tok"))) {
        throw new CiabError("forbidden", "the download URL's signature does not match");
      }
      const verdict = verifyDownload(await signingKey(), signedText(id, query.user, query.token), query.expires, query.signature, now().getTime());
      if (verdict === "bad") throw new CiabError("forbidden", "the download URL's signature does not match");
      if (verdict === "expired") throw new CiabError("forbidden", "the download URL expired; get the artifact again for a fresh one");
      const artifact = await store.artifacts.getAny(id);
      if (!artifact) throw new CiabError("not_found", `no artifact ${id}`);
      const holder = query.token === undefined ? undefined : await standingHolder(artifact.workspaceID, query.user, query.token);
      if (artifact.scanStatus === "infected") {
        throw new CiabError("artifact_infected", `artifact ${id} is quarantined: the scanner found ${artifact.scanSignature}`, {
          context: { signature: artifact.scanSignature },
        });
      }
      const at = now();
      const hour = at.toISOString().slice(0, 13);
      if (!(await store.downloads.reserve(query.user, hour, artifact.size, dependencies.limitBytesPerHour))) {
        const nextHour = new Date(at);
        nextHour.setUTCMinutes(60, 0, 0);
        const retryAfterSeconds = Math.max(1, Math.ceil((nextHour.getTime() - at.getTime()) / 1000));
        const used = await store.downloads.used(query.user, hour);
        throw new CiabError(
          "rate_limited",
          `this download (${artifact.size} bytes) would pass the hourly limit of ${dependencies.limitBytesPerHour} bytes (${used} used this hour)`,
          { context: { retry_after_seconds: retryAfterSeconds, limit_bytes: dependencies.limitBytesPerHour, used_bytes: used } },
        );
      }
      if (artifactStore.presignedURL) {
        const url = await artifactStore.presignedURL(artifact.storageKey, {
          expiresAt: new Date(at.getTime() + 60_000),
          fileName: downloadName(artifact),
          contentType: artifact.mime,
        });
        return { kind: "redirect", artifact, url };
      }
      return { kind: "stream", artifact, stream: await artifactStore.open(artifact.storageKey), holder };
    },
  };

  /** The principal of the token a URL was issued to, while the token and its user stand. */
  async function standingHolder(workspaceID: string, userID: string, tokenID: string): Promise<Principal> {
    const [token, user] = await Promise.all([store.tokens.get(workspaceID, tokenID), store.users.get(userID)]);
    const expired = token?.expiresAt && Date.parse(token.expiresAt) <= now().getTime();
    if (!token || token.userID !== userID || token.revokedAt !== null || expired || !user || user.removedAt) {
      throw new CiabError("unauthorized", "the token this download URL was issued to was revoked or expired");
    }
    return { userID, workspaceID, role: user.role, installationAdmin: false, tokenID, tokenExpiresAt: token.expiresAt ?? null };
  }
}

/**
 * The text a URL's signature covers. A URL naming a token must never read as one naming none (which no revoke
 * cuts), so the two forms differ in their first line, and `open` takes only ids for the user and token.
 */
function signedText(id: string, userID: string, tokenID: string | undefined): string {
  return tokenID === undefined ? `${id}\n${userID}` : `token-bound\n${id}\n${userID}\n${tokenID}`;
}

export type DownloadLinks = ReturnType<typeof createDownloadLinks>;

/** The file name offered to a browser: the published file's name, reduced to safe characters. */
export function downloadName(artifact: ArtifactRecord): string {
  const base = artifact.kind === "snapshot" ? `${artifact.id}.tar.gz` : (artifact.path ?? artifact.id).split("/").pop() || artifact.id;
  return base.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 200);
}
