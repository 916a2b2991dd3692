import type { Duplex } from "node:stream";
import { CiabError, finalSessionStates } from "@ciab/protocol";
import type { AgentConnections } from "./agent-connections.js";
import { hasPrefix } from "../ids.js";
import type { AuthService, Principal } from "./auth-service.js";
import type { PreviewTokens } from "./preview-tokens.js";
import type { Store } from "../store/store.js";
import type { SessionRecord } from "../store/records.js";

/** Something that happened which an audit log should keep; the token itself is never part of it. */
export interface PreviewAuditEntry {
  action: "preview.url.signed";
  workspaceID: string;
  userID: string;
  sessionID: string;
  port: number;
  expiresAt: number;
}

export interface PreviewServiceDependencies {
  store: Store;
  connections: AgentConnections;
  tokens: PreviewTokens;
  /** Preview traffic counts as session activity for the idle reaper. */
  touch: (sandboxID: string) => void;
  maxStreamsPerSession: number;
  /** Ends the streams of a preview whose API token is revoked or expires. */
  auth?: Pick<AuthService, "watch">;
  /** Called for every URL signed; the audit service hooks in here. */
  audit?: (entry: PreviewAuditEntry) => void;
}

/** A preview request cleared to go: its tunnel into the sandbox, and `release` to call once it ended. */
export interface PreviewLease {
  sandboxID: string;
  expiresAt: number;
  /** Opens a byte tunnel to the port inside the sandbox (`preview_unreachable` when nothing listens). */
  connect(signal?: AbortSignal): Promise<Duplex>;
  /** Marks traffic on a long stream (a download, a WebSocket), at most once a second. */
  touch(): void;
  /** Calls `cut` when the token the preview URL was signed for is revoked or expires, until `release`. */
  cutOnRevoke(cut: () => void): void;
  release(): void;
}

export interface SignedPort {
  port: number;
  token: string;
  expiresAt: number;
}

/** The rules of previews: who may reach which port, for how long, and how many streams at once. */
export interface PreviewService {
  /** Checks the token against the session and port and takes one of the session's stream slots. */
  open(token: string | undefined, sessionID: string, port: number): Promise<PreviewLease>;
  /** Ports listening in the session's sandbox, each with a freshly signed token. */
  listPorts(principal: Principal, sessionID: string, signal?: AbortSignal): Promise<SignedPort[]>;
  /** Streams open per session right now (for tests and metrics). */
  openStreams(sessionID: string): number;
}

/** agentd's answer is the sandbox's word: sign no more than this many URLs for one listing. */
const maximumListedPorts = 100;

export function createPreviewService(dependencies: PreviewServiceDependencies): PreviewService {
  const { store, connections, tokens } = dependencies;
  const streams = new Map<string, number>();

  async function readySandbox(session: SessionRecord) {
    if (finalSessionStates.includes(session.state)) {
      throw new CiabError("session_ended", `session ${session.id} ended (${session.state}): its previews are closed`);
    }
    const sandbox = session.sandboxID ? await store.sandboxes.get(session.workspaceID, session.sandboxID) : undefined;
    if (!sandbox || sandbox.state !== "ready") {
      throw new CiabError("sandbox_not_ready", `the sandbox of session ${session.id} is ${sandbox?.state ?? "not created yet"}`, { retryable: true });
    }
    return sandbox;
  }

  return {
    async open(token, sessionID, port) {
      const grant = await tokens.verify(token, sessionID, port);
      const tokenExpiresAt = grant.tokenID === undefined ? null : await standingUntil(grant.workspaceID, grant.tokenID);
      const session = await store.sessions.get(grant.workspaceID, sessionID);
      if (!session) throw new CiabError("session_ended", `session ${sessionID} no longer exists`);
      const sandbox = await readySandbox(session);
      const count = streams.get(sessionID) ?? 0;
      if (count >= dependencies.maxStreamsPerSession) {
        throw new CiabError("too_many_streams", `session ${sessionID} already has ${count} preview streams open`, { retryable: true });
      }
      streams.set(sessionID, count + 1);
      dependencies.touch(sandbox.id);
      let released = false;
      let unwatch: (() => void) | undefined;
      let touchedAt = Date.now();
      return {
        sandboxID: sandbox.id,
        expiresAt: grant.expiresAt,
        connect: (signal) => connections.connectPort(sandbox, port, signal),
        touch() {
          // Called per chunk of a stream; the idle reaper needs no finer grain than a second.
          const now = Date.now();
          if (now - touchedAt < 1000) return;
          touchedAt = now;
          dependencies.touch(sandbox.id);
        },
        cutOnRevoke(cut) {
          if (released || grant.tokenID === undefined || !dependencies.auth) return;
          unwatch?.();
          const holder: Principal = { userID: "", workspaceID: grant.workspaceID, role: "member", installationAdmin: false, tokenID: grant.tokenID, tokenExpiresAt };
          unwatch = dependencies.auth.watch(holder, cut);
        },
        release() {
          if (released) return;
          released = true;
          unwatch?.();
          const left = (streams.get(sessionID) ?? 1) - 1;
          if (left > 0) streams.set(sessionID, left);
          else streams.delete(sessionID);
          dependencies.touch(sandbox.id);
        },
      };
    },

    async listPorts(principal, sessionID, signal) {
      const session = await store.sessions.get(principal.workspaceID, sessionID);
      if (!session) throw new CiabError("not_found", `no session ${sessionID} in this workspace`);
      const sandbox = await readySandbox(session);
      const agent = connections.get(sandbox);
      const [listening, health] = await Promise.all([agent.ports(signal), agent.health(signal)]);
      // agentd's own relay to the model gateway is plumbing, not something the session serves.
      const ports = [...new Set(listening.map((entry) => entry.port))].filter((port) => port !== health.gatewayPort).slice(0, maximumListedPorts);
      const signed: SignedPort[] = [];
      // The gateway, approvals and the loops hold no API token: their URLs last their time, as before.
      const tokenID = hasPrefix(principal.tokenID, "tok") ? principal.tokenID : undefined;
      for (const port of ports) {
        const { token, expiresAt } = await tokens.sign({ sessionID, port, workspaceID: session.workspaceID, tokenID });
        dependencies.audit?.({ action: "preview.url.signed", workspaceID: session.workspaceID, userID: principal.userID, sessionID, port, expiresAt });
        signed.push({ port, token, expiresAt });
      }
      return signed;
    },

    openStreams: (sessionID) => streams.get(sessionID) ?? 0,
  };

  /**
   * A preview URL dies with the token it was signed for (revoked, expired, or its user removed, which revokes
   * it): answers when the token expires, if ever.
   */
  async function standingUntil(workspaceID: string, tokenID: string): Promise<string | null> {
    const record = await store.tokens.get(workspaceID, tokenID);
    const expired = record?.expiresAt && Date.parse(record.expiresAt) <= Date.now();
    if (!record || record.revokedAt !== null || expired) {
      throw new CiabError("preview_token_invalid", "the token this preview URL was signed for was revoked or expired: ask for a new URL");
    }
    return record.expiresAt ?? null;
  }
}
