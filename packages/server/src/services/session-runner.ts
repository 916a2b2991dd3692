import { randomBytes } from "node:crypto";
import { CiabError, type SessionEndReason, type SessionState } from "@ciab/protocol";
import type { AgentClient } from "../agent-channel/agent-client.js";
import type { DataKey } from "../data-key.js";
import type { Logger } from "../logger.js";
import type { Launch, LaunchContext, Provider } from "../providers/provider.js";
import { getProvider } from "../providers/provider-registry.js";
import { ensureToolInstalled } from "../providers/tool-installer.js";
import type { SessionRecord } from "../store/records.js";
import type { Store } from "../store/store.js";
import type { MachineJob } from "../runtimes/runtime.js";
import { hashToken, type Principal } from "./auth-service.js";
import type { ActivityTracker } from "./activity-tracker.js";
import type { EventService } from "./event-service.js";
import type { OutboundPolicy } from "./outbound-policy.js";
import { checkoutRepo } from "./repo-checkout.js";
import type { SandboxGrant } from "./sandbox-policy.js";
import { provideToolInMachine } from "./machine-tools.js";
import { readAgentOutput } from "./session-output-reader.js";
import { headlessJob, jobEndFromTask, jobFollower } from "./session-job.js";
import type { SandboxEnding, SandboxService } from "./sandbox-service.js";
import type { FinalSnapshotOutcome } from "./final-snapshot.js";

/** The control plane's side of the model gateway, as the runner needs it. */
export interface SessionGateway {
  /** Starts serving the sandbox's gateway socket (idempotent). */
  open(sandboxID: string): Promise<void>;
  /** Refuses the session's further model calls. */
  cutOff(sessionID: string): void;
}

export interface SessionRunnerDependencies {
  store: Store;
  events: EventService;
  sandboxes: SandboxService;
  gateway: SessionGateway;
  dataKey: DataKey;
  /** Checks and pins the repository clone (`[policy]`). */
  outbound: OutboundPolicy;
  /** `[policy] max_repo_mb` in bytes. */
  maxRepoBytes: number;
  /** `[policy] max_session_output_mb` in bytes. */
  maxOutputBytes: number;
  toolsDirectory: string;
  logger: Logger;
  /** Told of the agent's output, which keeps its session from being idle. */
  activity?: ActivityTracker;
}

/** How a session is made to end from outside its agent: a cancel, or the budget's loops. */
export interface SessionEnding {
  state: "cancelled" | "failed";
  endReason: SessionEndReason;
  /** For `failed`: the failure's reason code and message. */
  reason?: string;
  message?: string;
}

const cancelled: SessionEnding = { state: "cancelled", endReason: "cancelled" };

/** Interactive agents get a terminal of this size until someone attaches and resizes it. */
const initialTerminal = { cols: 120, rows: 40 };

/**
 * Runs sessions: gets a sandbox, installs the agent, checks the repo out, launches the agent with the
 * gateway's URL and a per-session token, and turns its output into events until it exits. Every step is
 * recorded first, so a restarted control plane resumes a running session where its events stopped.
 */
export function createSessionRunner(dependencies: SessionRunnerDependencies) {
  const { store, events, sandboxes, logger } = dependencies;
  const running = new Map<string, { controller: AbortController; ending: SessionEnding | undefined }>();

  const systemPrincipal = (session: SessionRecord): Principal => ({
    userID: session.userID,
    workspaceID: session.workspaceID,
    role: "member",
    installationAdmin: false,
    tokenID: "system",
  });

  async function transition(
    session: SessionRecord,
    state: SessionState,
    details: { exitCode?: number | null; reason?: string; message?: string; endReason?: SessionEndReason } = {},
  ): Promise<SessionRecord> {
    const final = state === "completed" || state === "failed" || state === "cancelled";
    const endReason = details.endReason ?? (state === "cancelled" ? "cancelled" : details.reason === "agent_exit" || state === "completed" ? "agent_exit" : "error");
    // One convention wherever a cancel is seen (store, events, CLI): 130, as a shell reports Ctrl-C.
    if (state === "cancelled") details = { ...details, exitCode: cancelledExitCode };
    const updated = await store.sessions.update(session.id, {
      state,
      ...(final && { endReason }),
      ...(details.exitCode !== undefined && { exitCode: details.exitCode }),
      ...(details.reason !== undefined && { failureReason: details.reason }),
      ...(details.message !== undefined && { failureMessage: details.message }),
      ...(state === "running" || state === "idle" ? { startedAt: session.startedAt ?? new Date().toISOString() } : {}),
      ...(final && { endedAt: new Date().toISOString() }),
    });
    const data: Record<string, unknown> = { state };
    if (details.exitCode !== undefined) data.exit_code = details.exitCode;
    if (details.reason !== undefined) data.reason = details.reason;
    if (details.message !== undefined) data.message = details.message;
    if (final) data.end_reason = endReason;
    await events.append(session.id, [{ type: "session.state.changed", data }]);
    if (final) {
      logger.info({ sessionID: session.id, sandboxID: updated.sandboxID, state, exitCode: updated.exitCode, endReason }, "session ended");
    } else if ((state === "running" || state === "idle") && session.startedAt === null) {
      logger.info({ sessionID: session.id, sandboxID: updated.sandboxID, provider: session.provider }, "session started");
    }
    return updated;
  }

  async function note(session: SessionRecord, message: string): Promise<void> {
    await events.append(session.id, [{ type: "session.state.changed", data: { state: "starting", message } }]);
  }

  async function ensureSandbox(
    session: SessionRecord,
    grant: SandboxGrant | undefined,
    job: MachineJob | undefined,
    signal: AbortSignal,
  ): Promise<{ session: SessionRecord; sandboxID: string }> {
    if (session.sandboxID) return { session, sandboxID: session.sandboxID };
    if (!grant) throw new CiabError("internal", `session ${session.id} has neither a sandbox nor a grant to create one`);
    await note(session, "creating sandbox");
    const sandbox = await sandboxes.createGranted(grant, { wait: true, ...(job && { job }) });
    // Recorded before anything else can stop us, so finish() destroys it even when cancelled right now.
    const updated = await store.sessions.update(session.id, { sandboxID: sandbox.id, usdPerHour: sandbox.usdPerHour });
    if (signal.aborted) throw signal.reason;
    return { session: updated, sandboxID: sandbox.id };
  }

  async function writeLaunchFiles(agent: AgentClient, launch: Launch, signal: AbortSignal): Promise<void> {
    for (const file of launch.files) {
      const result = await agent.exec(
        {
          command: ["sh", "-c", 'mkdir -p "$(dirname "$1")" && cat > "$1" && chmod "$2" "$1"', "write", file.path, (file.mode ?? 0o600).toString(8)],
          stdin: file.content,
        },
        signal,
      );
      if (result.exitCode !== 0) throw new CiabError("runtime_error", `cannot write ${file.path}: ${result.stderr.trim()}`);
    }
  }

  async function launch(session: SessionRecord, provider: Provider, grant: SandboxGrant | undefined, signal: AbortSignal): Promise<void> {
    // A job runs the image's own agent; other machines get the CLI from the tools dir.
    const job = headlessJob(session, provider, grant);
    const install = job === undefined ? provider.install : null;
    // Before the sandbox: a machine that downloads the tools dir at boot (ec2 on a plain AMI) gets the CLI then.
    if (install) {
      await note(session, `installing ${install.npmPackage}@${install.version}`);
      await ensureToolInstalled(install, dependencies.toolsDirectory, { signal });
    }
    let sandboxID: string;
    ({ session, sandboxID } = await ensureSandbox(session, grant, job, signal));
    const principal = systemPrincipal(session);
    await dependencies.gateway.open(sandboxID);
    await sandboxes.withAgent(principal, sandboxID, async (agent) => {
      if (install) await provideToolInMachine(agent, install, dependencies.toolsDirectory, signal);
      if (session.repo) {
        await note(session, `checking out ${session.repo.url}${session.repo.ref ? `@${session.repo.ref}` : ""}`);
        const url = session.sealedRepoURL ? dependencies.dataKey.open(session.sealedRepoURL) : session.repo.url;
        await checkoutRepo(agent, { ...session.repo, url }, { outbound: dependencies.outbound, maxBytes: dependencies.maxRepoBytes }, signal);
      }
      const health = await agent.health(signal);
      const gatewayPort = (health as { gatewayPort?: number }).gatewayPort;
      const base = `http://127.0.0.1:${gatewayPort ?? 0}`;
      const token = `ciabgw_${randomBytes(24).toString("base64url")}`;
      session = await store.sessions.update(session.id, { gatewayTokenHash: hashToken(token) });
      // Inside a jail or container /tmp is the machine's own; without isolation it would be the host's shared
      // /tmp, so the session's home goes beside its work dir instead.
      const homeDirectory =
        health.workspaceRoot === "/workspace"
          ? `/tmp/ciab-sessions/${session.id}/home`
          : `${health.workspaceRoot.replace(/\/workspace$/, "")}/sessions/${session.id}/home`;
      const context: LaunchContext = {
        gatewayBaseURL: { anthropic: `${base}/anthropic`, openai: `${base}/openai`, google: `${base}/google` },
        gatewayToken: token,
        model: session.model ?? undefined,
        homeDirectory,
        workDirectory: "/workspace",
      };
      const plan = session.prompt !== null ? provider.headless(context, session.prompt) : provider.interactive(context);
      await writeLaunchFiles(agent, { ...plan, files: [{ path: `${homeDirectory}/.keep`, content: "" }, ...plan.files] }, signal);
      const userEnv = JSON.parse(dependencies.dataKey.open(session.sealedEnv)) as Record<string, string>;
      // A headless agent gets no stdin: several CLIs (pi among them) read a piped stdin to its end before
      // starting. Interactive ones read their terminal.
      const command = session.prompt !== null ? ["sh", "-c", 'exec "$@" </dev/null', "ciab-agent", ...plan.command] : plan.command;
      // ciab-artifact reads these: the gateway relay and a token that is good only there, for this session.
      const env = { HOME: homeDirectory, CIAB_GATEWAY_URL: base, CIAB_SESSION_TOKEN: token, ...plan.env, ...userEnv };
      // A job's agent is already waiting in the machine's entrypoint: what starts here hands it over and follows it.
      const started = job === undefined ? { command, env } : jobFollower(env);
      const process = await agent.startProcess(
        {
          command: started.command,
          cwd: "/workspace",
          env: started.env,
          tag: sessionTag(session.id),
          persistOutput: true,
          ...(session.prompt === null && { pty: initialTerminal }),
        } as Parameters<AgentClient["startProcess"]>[0],
        signal,
      );
      session = await store.sessions.update(session.id, { processPID: process.pid });
    });
    session = await transition(session, session.prompt !== null ? "running" : "idle");
  }

  /** Follows the agent's output until it exits (session-output-reader.ts), then ends the session by it. */
  async function consume(session: SessionRecord, provider: Provider, signal: AbortSignal): Promise<void> {
    const exit = await readAgentOutput(dependencies, session, provider, systemPrincipal(session), signal);
    const current = (await store.sessions.getAny(session.id))!;
    const exitCode = exit.exitCode ?? (exit.signal ? 128 : 1);
    const ending = running.get(session.id)?.ending;
    if (ending) await endAs(current, ending, exitCode);
    else if (exitCode === 0) await transition(current, "completed", { exitCode });
    else await transition(current, "failed", { exitCode, reason: "agent_exit", message: `the agent exited with ${exit.signal ?? `code ${exitCode}`}` });
  }

  /**
   * Ends the session's agent, whether or not its pid was learned: a cancel can land while the start request
   * is in flight, so processes tagged with the session are found by their tag too.
   */
  async function stopAgent(session: SessionRecord, signal: "SIGTERM" | "SIGKILL"): Promise<void> {
    if (!session.sandboxID) return;
    await sandboxes
      .withAgent(systemPrincipal(session), session.sandboxID, async (agent) => {
        const tagged = (await agent.listProcesses()).filter((process) => process.running && process.tag === sessionTag(session.id));
        const pids = new Set([...(session.processPID !== null ? [session.processPID] : []), ...tagged.map((process) => process.pid)]);
        for (const pid of pids) await agent.signalProcess(pid, signal).catch(() => undefined);
      })
      .catch((error: unknown) => logger.debug({ sessionID: session.id, err: String(error) }, "stopping the agent"));
  }

  async function endAs(session: SessionRecord, ending: SessionEnding, exitCode?: number): Promise<void> {
    await transition(session, ending.state, {
      ...(exitCode !== undefined && { exitCode }),
      ...(ending.reason !== undefined && { reason: ending.reason }),
      ...(ending.message !== undefined && { message: ending.message }),
      endReason: ending.endReason,
    });
  }

  async function finish(session: SessionRecord): Promise<void> {
    dependencies.gateway.cutOff(session.id);
    const current = (await store.sessions.getAny(session.id))!;
    if (current.ownsSandbox && !current.keepSandbox && current.sandboxID) {
      const budgetEnd = current.endReason === "max_runtime" || current.endReason === "idle_timeout";
      const options: SandboxEnding = {
        ...(budgetEnd ? { endReason: current.endReason! } : { why: "session_end" }),
        onFinalSnapshot: (outcome) => recordFinalSnapshot(current, outcome),
      };
      await sandboxes.delete(systemPrincipal(current), current.sandboxID, options).catch((error: unknown) => {
        logger.warn({ sessionID: session.id, err: String(error) }, "could not destroy the session's sandbox");
      });
    }
    // Last: the final snapshot's event is appended above.
    events.release(session.id);
  }

  /** The snapshot its `snapshot-on-idle` sandbox took as it ended: on the session and in its events. */
  async function recordFinalSnapshot(session: SessionRecord, outcome: FinalSnapshotOutcome): Promise<void> {
    if ("error" in outcome) {
      const data = { code: outcome.error.code, message: outcome.error.message, reason: outcome.why };
      await events.append(session.id, [{ type: "session.snapshot.failed", data }]);
      return;
    }
    await store.sessions.update(session.id, { finalSnapshotID: outcome.snapshotID });
    await events.append(session.id, [{ type: "session.snapshot.created", data: { snapshot_id: outcome.snapshotID, label: outcome.label, reason: outcome.why } }]);
  }

  async function drive(session: SessionRecord, resume: boolean, grant?: SandboxGrant): Promise<void> {
    const entry: { controller: AbortController; ending: SessionEnding | undefined } = { controller: new AbortController(), ending: undefined };
    running.set(session.id, entry);
    const signal = entry.controller.signal;
    const provider = getProvider(session.provider);
    let spotRetried = false;
    try {
      for (;;) {
        try {
          if (!resume) {
            session = await transition(session, "starting");
            await launch(session, provider, grant, signal);
            session = (await store.sessions.getAny(session.id))!;
          } else {
            await dependencies.gateway.open(session.sandboxID!);
          }
          await consume(session, provider, signal);
          break;
        } catch (error) {
          if (signal.aborted && !entry.ending) return; // the control plane is shutting down: resume later
          const current = (await store.sessions.getAny(session.id))!;
          const spot = await lostToSpot(current);
          // One retry, on a new sandbox made from the same grant: only a session that made its own can.
          if (spot && !spotRetried && grant !== undefined && current.ownsSandbox && !entry.ending) {
            spotRetried = true;
            resume = false;
            session = await forgetSandbox(current);
            continue;
          }
          if (!["completed", "failed", "cancelled"].includes(current.state)) {
            await stopAgent(current, "SIGKILL");
            const taskEnd = entry.ending ? undefined : await jobEndFromTask(sandboxes, systemPrincipal(current), current);
            if (entry.ending) await endAs(current, entry.ending);
            else if (taskEnd) {
              const failed = taskEnd.exitCode !== 0 && { reason: "agent_exit", message: taskEnd.message };
              await transition(current, failed ? "failed" : "completed", { exitCode: taskEnd.exitCode, ...failed });
            } else {
              const failure = error instanceof CiabError ? error : new CiabError("internal", String(error), { cause: error });
              const reason = spot ? "spot_interrupted" : failure.code;
              await events.append(session.id, [{ type: "session.error", data: { code: failure.code, message: failure.message } }]);
              await transition(current, "failed", { reason, message: failure.message });
            }
          }
          break;
        }
      }
    } finally {
      running.delete(session.id);
    }
    await finish(session);
  }

  /**
   * The grant a session that made its own sandbox had, made again after a restart from the stored records
   * only (its user as the store knows them now, the sandbox request it was created with), through the same
   * policy gate: what the machine says plays no part. None when the gate now refuses; the session then runs
   * on without a retry.
   */
  async function storedGrant(session: SessionRecord): Promise<SandboxGrant | undefined> {
    if (!session.ownsSandbox) return undefined;
    const user = await store.users.get(session.userID);
    if (!user || user.workspaceID !== session.workspaceID) return undefined;
    const principal: Principal = { userID: user.id, workspaceID: user.workspaceID, role: user.role, installationAdmin: user.installationAdmin, tokenID: "system" };
    try {
      return sandboxes.authorize(principal, session.sandboxRequest);
    } catch (error) {
      logger.warn({ sessionID: session.id, err: String(error) }, "a resumed session's sandbox request is no longer allowed; it will not be retried");
      return undefined;
    }
  }

  /**
   * Whether the session's sandbox failed because AWS took its spot instance back, whoever noticed first
   * (this session's agent call or the reconciler): the sandbox's row says so, whatever error reached here.
   */
  async function lostToSpot(session: SessionRecord): Promise<boolean> {
    if (!session.sandboxID) return false;
    const sandbox = await store.sandboxes.get(session.workspaceID, session.sandboxID);
    return sandbox?.state === "failed" && sandbox.failureReason === "spot_interrupted";
  }

  /** Drops a sandbox lost to a spot interruption from the session, so that the next launch makes a new one. */
  async function forgetSandbox(session: SessionRecord): Promise<SessionRecord> {
    logger.warn({ sessionID: session.id, sandboxID: session.sandboxID }, "spot instance interrupted; retrying once on a new sandbox");
    await events.append(session.id, [
      {
        type: "session.state.changed",
        data: { state: "starting", message: `sandbox ${session.sandboxID} lost its spot instance; retrying once on a new one` },
      },
    ]);
    return store.sessions.update(session.id, { sandboxID: null, processPID: null, stdoutOffset: 0, gatewayTokenHash: null });
  }

  return {
    /** Starts a new session; `grant` (from the policy gate) is what its own sandbox may be, if it makes one. */
    start(session: SessionRecord, grant: SandboxGrant | undefined): void {
      void drive(session, false, grant).catch((error: unknown) => logger.error({ sessionID: session.id, err: String(error) }, "session runner"));
    },

    /** After a restart: running sessions continue from their stored offset; half-started ones fail. */
    async resumeAll(): Promise<void> {
      for (const session of await store.sessions.listAll({ states: ["pending", "starting", "running", "idle"] })) {
        if (running.has(session.id)) continue;
        if ((session.state === "running" || session.state === "idle") && session.processPID !== null) {
          const grant = await storedGrant(session);
          void drive(session, true, grant).catch((error: unknown) => logger.error({ sessionID: session.id, err: String(error) }, "session resume"));
        } else {
          await stopAgent(session, "SIGKILL");
          await transition(session, "failed", { reason: "start_interrupted", message: "the control plane stopped while this session was starting" });
          await finish(session);
        }
      }
    },

    cancel(session: SessionRecord): Promise<void> {
      return this.end(session, cancelled);
    },

    /**
     * Stops the agent and ends the session as `ending` says. A session this runner is not driving (its
     * start was interrupted) is ended here and now.
     */
    async end(session: SessionRecord, ending: SessionEnding): Promise<void> {
      const entry = running.get(session.id);
      if (entry?.ending) return; // already ending: the first reason stands
      if (entry) entry.ending = ending;
      else {
        await stopAgent(session, "SIGKILL");
        const current = (await store.sessions.getAny(session.id))!;
        if (["completed", "failed", "cancelled"].includes(current.state)) return;
        await endAs(current, ending);
        await finish(current);
        return;
      }
      if (session.processPID !== null) {
        await stopAgent(session, "SIGTERM");
        setTimeout(() => void stopAgent(session, "SIGKILL"), 5_000).unref();
      } else {
        // Still starting: abort the launch; drive() then stops whatever it had started.
        entry?.controller.abort(new CiabError("conflict", "cancelled"));
      }
    },

    async close(): Promise<void> {
      for (const entry of running.values()) entry.controller.abort();
    },
  };
}

export type SessionRunner = ReturnType<typeof createSessionRunner>;

/** The exit code every cancelled session records (docs/decisions/0027-lifetimes-and-accounts.md). */
export const cancelledExitCode = 130;

/** Processes of a session carry this tag, so they can be found without their pid. */
function sessionTag(sessionID: string): string {
  return `session:${sessionID}`;
}
