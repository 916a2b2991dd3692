import { resolveConnection, type Connection } from "./connection.js";
import { Artifacts } from "./artifacts.js";
import { HttpClient } from "./http.js";
import { Snapshots } from "./snapshots.js";
import { Volumes } from "./volumes.js";
import { Images } from "./images.js";
import { Sandboxes } from "./sandboxes.js";
import { Secrets } from "./secrets.js";
import { Sessions } from "./sessions.js";
import { Usage } from "./usage.js";
import { Tokens } from "./tokens.js";
import { Workspaces } from "./workspaces.js";
import { Approvals } from "./approvals.js";
import { Audit } from "./audit.js";
import { SessionTools } from "./tools.js";

export interface CiabOptions {
  /** Defaults to `CIAB_URL`, then the local server's `<data dir>/server.json`. */
  url?: string | undefined;
  /**
   * Defaults to `CIAB_TOKEN`, then the local server's `<data dir>/admin-token`. A token given here or in
   * `CIAB_TOKEN` is sent only to `url` / `CIAB_URL` or to the server of a data dir named here or in
   * `CIAB_DATA_DIR`, never to one found in the default `./.ciab`.
   */
  token?: string | undefined;
  /** Where to look for a local server; defaults to `CIAB_DATA_DIR`, then `./.ciab`. */
  dataDirectory?: string | undefined;
  /** A fetch of your own (tests, proxies); defaults to the global one. */
  fetch?: typeof globalThis.fetch;
}

/**
 * The ciab client. Constructing it does no I/O: the server is looked up on the first request.
 *
 *     const ciab = new Ciab();
 *     const sandbox = await ciab.sandboxes.create({ runtime: "docker" });
 *     const result = await sandbox.commands.run(["echo", "hi"]);
 */
export class Ciab {
  readonly sandboxes: Sandboxes;
  readonly sessions: Sessions;
  readonly secrets: Secrets;
  readonly usage: Usage;
  readonly artifacts: Artifacts;
  readonly snapshots: Snapshots;
  readonly tokens: Tokens;
  readonly workspaces: Workspaces;
  readonly approvals: Approvals;
  readonly audit: Audit;
  readonly volumes: Volumes;
  readonly images: Images;
  readonly #http: HttpClient;

  constructor(options: CiabOptions = {}) {
    this.#http = new HttpClient({
      connection: () => resolveConnection(options),
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    this.sandboxes = new Sandboxes(this.#http);
    this.sessions = new Sessions(this.#http);
    this.secrets = new Secrets(this.#http);
    this.usage = new Usage(this.#http);
    this.artifacts = new Artifacts(this.#http, options.fetch);
    this.snapshots = new Snapshots(this.#http);
    this.tokens = new Tokens(this.#http);
    this.workspaces = new Workspaces(this.#http);
    this.approvals = new Approvals(this.#http);
    this.audit = new Audit(this.#http);
    this.volumes = new Volumes(this.#http);
    this.images = new Images(this.#http);
  }

  /** The sandbox tools by name, acting in a session's sandbox. */
  tools(sessionID: string): SessionTools {
    return new SessionTools(this.#http, sessionID);
  }

  /** The server's url and token as resolved (reads the data dir when they were not given). */
  connection(): Promise<Connection> {
    return this.#http.connection();
  }

  /** No token needed. */
  health(options: { signal?: AbortSignal } = {}): Promise<{ status: "ok"; version: string }> {
    return this.#http.json("GET", "/api/v1/health", { ...options, authenticated: false });
  }
}
