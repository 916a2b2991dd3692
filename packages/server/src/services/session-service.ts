import {
  CiabError,
  finalSessionStates,
  type CreateSandboxRequest,
  type CreateSessionRequest,
  type SessionState,
} from "@ciab/protocol";
import type { DataKey } from "../data-key.js";
import { newID } from "../ids.js";
import { getProvider } from "../providers/provider-registry.js";
import type { Provider } from "../providers/provider.js";
import { gatewaySecretNames } from "../gateway/gateway.js";
import { redactCredentials } from "./repo-checkout.js";
import type { SessionRecord } from "../store/records.js";
import type { Store } from "../store/store.js";
import type { Principal } from "./auth-service.js";
import type { BudgetService } from "./budget-service.js";
import { isInsideDirectory, localRepoPath, repoLocation } from "./git-remote.js";
import { refusal, type OutboundPolicy } from "./outbound-policy.js";
import type { SandboxGrant } from "./sandbox-policy.js";
import type { SandboxService, SnapshotRestorer } from "./sandbox-service.js";
import type { SessionRunner } from "./session-runner.js";
import type { VolumeService } from "./volume-service.js";

export interface SessionServiceDependencies {
  /** `[policy] allow_local_repos`. */
  allowLocalRepos: boolean;
  /** The server's data directory: never a repository, whatever `allow_local_repos` says. */
  dataDirectory?: string;
  /** `[policy]` for remote repositories: refused hosts are answered at once (and checked again at clone). */
  outbound: OutboundPolicy;
  store: Store;
  sandboxes: SandboxService;
  runner: SessionRunner;
  dataKey: DataKey;
  /** Refuses new sessions of a workspace over its hourly cap. */
  budget?: BudgetService;
  /** Checks a `restore` snapshot before the session is recorded. */
  snapshots?: Pick<SnapshotRestorer, "check">;
  /** Checks a `persistent-volume` session's volume before the session is recorded. */
  volumes?: Pick<VolumeService, "check">;
}

/** Sessions: one agent run in a sandbox. The runner does the work; this holds the rules. */
export function createSessionService(dependencies: SessionServiceDependencies) {
  const { store, sandboxes, runner, dataKey } = dependencies;

  async function get(principal: Principal, id: string): Promise<SessionRecord> {
    const session = await store.sessions.get(principal.workspaceID, id);
    if (!session) throw new CiabError("not_found", `no session ${id} in this workspace`);
    return session;
  }

  /** Refused before anything starts: without the key, the agent's first model call would fail minutes later. */
  async function requireProviderKey(workspaceID: string, provider: Provider): Promise<void> {
    if (provider.gatewayAPI === null) return;
    const name = gatewaySecretNames[provider.gatewayAPI];
    if (await store.secrets.get(workspaceID, name)) return;
    throw new CiabError(
      "provider_key_missing",
      `${provider.name} needs the workspace secret ${name} for its model API: set it with \`ciab secret set ${name}\``,
      { context: { provider: provider.name, secret: name } },
    );
  }

  return {
    get,

    async create(principal: Principal, request: CreateSessionRequest): Promise<SessionRecord> {
      const provider = getProvider(request.provider);
      await requireProviderKey(principal.workspaceID, provider);
      const location = request.repo ? repoLocation(request.repo.url) : undefined;
      if (location?.kind === "local" && !dependencies.allowLocalRepos) {
        throw new CiabError(
          "invalid_request",
          "repository paths on the server's host are off; use an https:// or ssh:// URL, or set [policy] allow_local_repos = true (CIAB_POLICY_ALLOW_LOCAL_REPOS)",
        );
      }
      if (location?.kind === "local" && dependencies.dataDirectory && (await isInsideDirectory(localRepoPath(request.repo!.url), dependencies.dataDirectory))) {
        throw new CiabError("invalid_request", "repository paths inside the server's data directory are refused: it holds every sandbox's work dir and the server's keys");
      }
      // A session in an existing sandbox has that sandbox's; one of its own gets the request's or the default.
      const ownPersistence = request.sandbox_id === undefined ? sandboxes.persistenceOf(principal.workspaceID, request) : undefined;
      await dependencies.budget?.checkCap(principal.workspaceID);
      if (request.restore !== undefined) {
        if (!dependencies.snapshots) throw new CiabError("capability_unsupported", "this server keeps no snapshots");
        await dependencies.snapshots.check(principal.workspaceID, request.restore);
      }
      let usdPerHour = 0;
      const sandboxRequest: CreateSandboxRequest = {
        ...(request.runtime !== undefined && { runtime: request.runtime }),
        ...(request.image !== undefined && { image: request.image }),
        ...(request.resources !== undefined && { resources: request.resources }),
        ...(request.network !== undefined && { network: request.network }),
        ...(request.restore !== undefined && { restore: request.restore }),
        ...(ownPersistence !== undefined && { persistence: ownPersistence }),
        ...(request.volume !== undefined && { volume: request.volume }),
        ...(request.volume_size_gib !== undefined && { volume_size_gib: request.volume_size_gib }),
      };
      let grant: SandboxGrant | undefined;
      let persistence = ownPersistence ?? "ephemeral";
      if (request.sandbox_id) {
        const sandbox = await sandboxes.get(principal, request.sandbox_id);
        usdPerHour = sandbox.usdPerHour;
        persistence = sandbox.persistence ?? "ephemeral";
        if (sandbox.state !== "ready") {
          throw new CiabError("sandbox_not_ready", `sandbox ${sandbox.id} is ${sandbox.state}; a session needs a ready sandbox`);
        }
      } else {
        // Checked now, with the caller's rights, exactly as POST /sandboxes checks them; the runner only
        // ever creates what this grant allows.
        grant = sandboxes.authorize(principal, sandboxRequest);
        // A built image that is not the workspace's is refused now, as POST /sandboxes refuses it.
        await sandboxes.resolveImage(grant);
        if (persistence === "persistent-volume" && dependencies.volumes) {
          await dependencies.volumes.check({ workspaceID: principal.workspaceID, userID: principal.userID, runtime: grant.runtime, volumeID: request.volume, sizeGiB: request.volume_size_gib });
        }
      }
      // After the cheap checks: this one may wait on DNS.
      if (location?.kind === "remote" && (await dependencies.outbound.isRefused(location.host))) throw refusal(location.host);
      const now = new Date().toISOString();
      const env = request.env ?? {};
      const session: SessionRecord = {
        id: newID("ses"),
        workspaceID: principal.workspaceID,
        sandboxID: request.sandbox_id ?? null,
        ownsSandbox: request.sandbox_id === undefined,
        keepSandbox: request.keep_sandbox ?? false,
        provider: provider.name,
        prompt: request.prompt ?? null,
        model: request.model ?? null,
        repo: request.repo ? { ...request.repo, url: redactCredentials(request.repo.url) } : null,
        sealedRepoURL: request.repo ? dataKey.seal(request.repo.url) : null,
        sealedEnv: dataKey.seal(JSON.stringify(env)),
        envKeys: Object.keys(env).sort(),
        sandboxRequest,
        state: "pending",
        exitCode: null,
        failureReason: null,
        failureMessage: null,
        processPID: null,
        stdoutOffset: 0,
        gatewayTokenHash: null,
        inputTokens: 0,
        outputTokens: 0,
        costUSD: 0,
        createdAt: now,
        updatedAt: now,
        startedAt: null,
        endedAt: null,
        userID: principal.userID,
        endReason: null,
        usdPerHour,
        persistence,
        finalSnapshotID: null,
      };
      await store.sessions.create(session);
      runner.start(session, grant);
      return session;
    },

    list(principal: Principal, options: { states?: SessionState[]; limit?: number } = {}) {
      return store.sessions.list(principal.workspaceID, options);
    },

    async cancel(principal: Principal, id: string): Promise<SessionRecord> {
      const session = await get(principal, id);
      if (finalSessionStates.includes(session.state)) return session;
      await runner.cancel(session);
      return get(principal, id);
    },

    isFinal: (session: SessionRecord) => finalSessionStates.includes(session.state),
  };
}

export type SessionService = ReturnType<typeof createSessionService>;
