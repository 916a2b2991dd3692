import { finalSessionStates, type ConsoleOutput, type ListeningPort, type Sandbox, type Session, type ShellCommand, type ToolName } from "@ciab/protocol";
import { setTimeout as sleep } from "node:timers/promises";
import { ConflictError, SandboxFailedError, UnprocessableError } from "./errors.js";
import type { HttpClient } from "./http.js";
import { SandboxCommands } from "./sandbox-commands.js";
import { SandboxFiles } from "./sandbox-files.js";
import { SandboxProcesses } from "./sandbox-processes.js";
import { SandboxShell } from "./sandbox-shell.js";
import { SessionTools, type ToolCallAnswer, type ToolCallOptions } from "./tools.js";

type Options = { signal?: AbortSignal };

export interface WaitUntilReadyOptions extends Options {
  /** Between two polls; 100 ms by default. */
  intervalMs?: number;
  /** Called with every state seen, for progress displays (`status_message`). */
  onUpdate?: (sandbox: Sandbox) => void;
}

/** One sandbox: its last known state in `info`, and what can be done in it. */
export class SandboxHandle {
  readonly commands: SandboxCommands;
  readonly processes: SandboxProcesses;
  readonly files: SandboxFiles;
  readonly shell: SandboxShell;
  readonly #http: HttpClient;
  readonly #path: string;
  #info: Sandbox;

  constructor(http: HttpClient, info: Sandbox) {
    this.#http = http;
    this.#info = info;
    this.#path = `/api/v1/sandboxes/${encodeURIComponent(info.id)}`;
    this.commands = new SandboxCommands(http, this.#path);
    this.processes = new SandboxProcesses(http, this.#path);
    this.files = new SandboxFiles(http, this.#path);
    this.shell = new SandboxShell(http, this.#path);
  }

  get id(): string {
    return this.#info.id;
  }

  /**
   * The sandbox tools by name, `sandbox.tools.call(name, args)`. They act through a session (its policy,
   * approvals and audit): the live session in this sandbox, or the one named with `sessionID`.
   */
  get tools(): { call: (name: ToolName, args: Record<string, unknown>, options?: ToolCallOptions & { sessionID?: string }) => Promise<ToolCallAnswer> } {
    const http = this.#http;
    const sandboxID = this.id;
    return {
      async call(name, args, options = {}) {
        let sessionID = options.sessionID;
        if (sessionID === undefined) {
          const { sessions } = await http.json<{ sessions: Session[] }>("GET", "/api/v1/sessions", { query: { limit: 500 }, signal: options.signal });
          sessionID = sessions.find((session) => session.sandbox_id === sandboxID && !finalSessionStates.includes(session.state))?.id;
          if (sessionID === undefined) throw new Error(`sandbox ${sandboxID} has no live session to call tools in: pass sessionID`);
        }
        return new SessionTools(http, sessionID).call(name, args as never, options);
      },
    };
  }

  /** As of the last call that returned it; `refresh()` asks again. */
  get info(): Sandbox {
    return this.#info;
  }

  refresh(options: Options = {}): Promise<Sandbox> {
    return this.#update("GET", "", options);
  }

  pause(options: Options = {}): Promise<Sandbox> {
    return this.#update("POST", "/pause", options);
  }

  resume(options: Options = {}): Promise<Sandbox> {
    return this.#update("POST", "/resume", options);
  }

  /** The sandbox now lives `seconds` from now (and that long after each resume); `expires_at` says until when. */
  setTimeout(seconds: number, options: Options = {}): Promise<Sandbox> {
    return this.#update("POST", "/timeout", options, { timeout_secs: seconds });
  }

  /** Destroys the sandbox; answers with its state afterwards (`terminating` or `terminated`). */
  delete(options: Options = {}): Promise<Sandbox> {
    return this.#update("DELETE", "", options);
  }

  /** What the machine printed on its console (ec2); `CapabilityUnsupportedError` on other runtimes. */
  async consoleOutput(options: Options = {}): Promise<string> {
    const body = await this.#http.json<ConsoleOutput>("GET", `${this.#path}/console`, options);
    return body.output;
  }

  /** The backend's own command for a shell in the machine (fargate's `aws ecs execute-command …`). */
  shellCommand(options: Options = {}): Promise<ShellCommand> {
    return this.#http.json<ShellCommand>("GET", `${this.#path}/shell-command`, options);
  }

  async ports(options: Options = {}): Promise<ListeningPort[]> {
    const body = await this.#http.json<{ ports: ListeningPort[] }>("GET", `${this.#path}/ports`, options);
    return body.ports;
  }

  /**
   * Polls until the sandbox is ready. Throws `SandboxFailedError` if it failed, `UnprocessableError`
   * (`image_not_found`) if the runtime lacks its image, and `ConflictError` (`invalid_state`) if it is going
   * away instead.
   */
  async waitUntilReady(options: WaitUntilReadyOptions = {}): Promise<Sandbox> {
    const { signal, intervalMs = 100, onUpdate } = options;
    let sandbox = this.#info;
    for (;;) {
      onUpdate?.(sandbox);
      if (sandbox.state === "ready") return sandbox;
      if (sandbox.state === "failed") {
        const message = sandbox.failure?.message ?? "the sandbox failed to start";
        throw new SandboxFailedError("sandbox_failed", message, {
          status: 502,
          context: { sandbox_id: sandbox.id, reason: sandbox.failure?.reason },
        });
      }
      if (sandbox.end_reason === "image_not_found") {
        throw new UnprocessableError("image_not_found", sandbox.failure?.message ?? `image ${sandbox.image} not found`, {
          status: 422,
          context: { sandbox_id: sandbox.id, image: sandbox.image },
        });
      }
      if (sandbox.state === "terminating" || sandbox.state === "terminated" || sandbox.state === "paused") {
        throw new ConflictError("invalid_state", `sandbox ${sandbox.id} is ${sandbox.state}`, {
          status: 409,
          context: { sandbox_id: sandbox.id, state: sandbox.state },
        });
      }
      await sleep(intervalMs, undefined, { signal });
      sandbox = await this.refresh({ signal });
    }
  }

  async #update(method: string, suffix: string, options: Options, json?: unknown): Promise<Sandbox> {
    this.#info = await this.#http.json<Sandbox>(method, this.#path + suffix, { ...options, ...(json !== undefined && { json }) });
    return this.#info;
  }
}
