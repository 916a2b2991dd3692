import { randomBytes } from "node:crypto";
import { CiabError } from "@ciab/protocol";
import type { AgentClient } from "../agent-channel/agent-client.js";
import type { DataKey } from "../data-key.js";
import type { Launch, LaunchContext, Provider } from "../providers/provider.js";
import { ensureToolInstalled } from "../providers/tool-installer.js";
import type { MachineJob } from "../runtimes/runtime.js";
import type { SessionRecord } from "../store/records.js";
import type { Store } from "../store/store.js";
import { hashToken, type Principal } from "./auth-service.js";
import { provideToolInMachine } from "./machine-tools.js";
import type { OutboundPolicy } from "./outbound-policy.js";
import { checkoutRepo } from "./repo-checkout.js";
import { headlessJob, jobFollower } from "./session-job.js";
import type { SandboxGrant } from "./sandbox-policy.js";
import type { SandboxService } from "./sandbox-service.js";
import type { SessionTransitions } from "./session-transitions.js";

/** The control plane's side of the model gateway, as the runner needs it. */
export interface SessionGateway {
  /** Starts serving the sandbox's gateway socket (idempotent). */
  open(sandboxID: string): Promise<void>;
  /** Refuses the session's further model calls. */
  cutOff(sessionID: string): void;
}

export interface SessionLaunchDependencies {
  store: Store;
  sandboxes: SandboxService;
  gateway: SessionGateway;
  dataKey: DataKey;
  /** Checks and pins the repository clone (`[policy]`). */
  outbound: OutboundPolicy;
  /** `[policy] max_repo_mb` in bytes. */
  maxRepoBytes: number;
  toolsDirectory: string;
}

/** Interactive agents get a terminal of this size until someone attaches and resizes it. */
const initialTerminal = { cols: 120, rows: 40 };

/** The control plane acting for the session's user, in the session's workspace. */
export function systemPrincipal(session: SessionRecord): Principal {
  return { userID: session.userID, workspaceID: session.workspaceID, role: "member", installationAdmin: false, tokenID: "system" };
}

/** Processes of a session carry this tag, so they can be found without their pid. */
export function sessionTag(sessionID: string): string {
  return `session:${sessionID}`;
}

/**
 * Starts a session's agent: gets a sandbox, installs the agent, checks the repo out, and launches the agent
 * with the gateway's URL and a per-session token. Every step is recorded before the next, so a restarted
 * control plane knows how far it got.
 */
export function createSessionLauncher(dependencies: SessionLaunchDependencies, transitions: SessionTransitions) {
  const { store, sandboxes } = dependencies;
  const { note } = transitions;

  async function ensureSandbox(
    session: SessionRecord,
    grant: SandboxGrant | undefined,
    job: MachineJob | undefined,
    signal: AbortSignal,
  ): Promise<{ session: SessionRecord; sandboxID: string }> {
    if (session.sandboxID) return { session, sandboxID: session.sandboxID };
    if (!grant) throw new CiabError("internal", `session ${session.id} has neither a sandbox nor a grant to create one`);
    await note(session, "creating sandbox");
    const sandbox = await sandboxes.createGranted(grant, { wait: true, signal, ...(job && { job }) });
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

  return async function launch(session: SessionRecord, provider: Provider, grant: SandboxGrant | undefined, signal: AbortSignal): Promise<void> {
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
    session = await transitions.transition(session, session.prompt !== null ? "running" : "idle");
  };
}
