import { CiabError, type CreateSandboxRequest, type RuntimeName } from "@ciab/protocol";
import type { Runtime } from "../runtimes/runtime.js";
import { loaderVariables } from "../runtimes/loader-environment.js";
import type { RuntimeRegistry } from "../runtimes/runtime-registry.js";
import type { Principal } from "./auth-service.js";

/** Only `authorizeSandbox` makes one, so a caller holding a grant has been through the gate. */
declare const grantBrand: unique symbol;

/**
 * A sandbox request that passed the policy gate for a caller: the only thing the sandbox service creates
 * machines from. Sessions that make their own sandbox get their grant when the session is created, with the
 * caller's rights, and hand it to the runner; no path creates a sandbox with rights of its own.
 */
export interface SandboxGrant {
  readonly workspaceID: string;
  /** Who the sandbox is made for: it is billed to them in usage reports. */
  readonly userID: string;
  readonly runtime: Runtime;
  readonly request: CreateSandboxRequest;
  readonly [grantBrand]: true;
}

/** `[policy]` limits on what callers other than installation admins may ask for; unset or empty: no limit. */
export interface SandboxLimits {
  runtimes: readonly RuntimeName[];
  images: readonly string[];
  /** `[policy] workspace_images`: a built image's id (`img_…`, resolved within the caller's workspace) passes whatever `images` lists. */
  workspaceImages?: boolean | undefined;
  maxCpus?: number | undefined;
  maxMemoryMB?: number | undefined;
  maxPids?: number | undefined;
}

export interface SandboxPolicyOptions {
  runtimes: RuntimeRegistry;
  /** `[policy] allow_host_network`: everyone may ask for `network: "host"`; installation admins always may. */
  allowHostNetwork: boolean;
  limits: SandboxLimits;
}

/**
 * The one gate for every way a sandbox is made (`POST /sandboxes`, a session's own sandbox, and any path
 * added later): the runtime must be enabled and able to do what is asked (images, resource limits, host
 * network); host networking, which reaches the host's loopback services, is an installation-wide right; and
 * everyone but installation admins stays within `[policy]`'s runtimes, images and resource caps.
 */
export function authorizeSandbox(options: SandboxPolicyOptions, principal: Principal, request: CreateSandboxRequest): SandboxGrant {
  const runtime = options.runtimes.get(request.runtime ?? options.runtimes.defaultName);
  const unsupported = (what: string) => new CiabError("capability_unsupported", `the ${runtime.name} runtime does not support ${what}`);
  if (request.resources && Object.keys(request.resources).length > 0 && !runtime.capabilities.resourceLimits) {
    throw unsupported("resource limits (resources)");
  }
  if (request.network === "host" && !runtime.capabilities.hostNetwork) throw unsupported("network host");
  if (request.image !== undefined && request.image !== runtime.defaultImage && !runtime.capabilities.images) {
    throw unsupported(`images (it boots ${runtime.defaultImage})`);
  }
  const loaderNames = runtime.capabilities.loaderEnvironment ? [] : loaderVariables(request.env ?? {});
  if (loaderNames.length > 0) throw unsupported(`env ${loaderNames.join(", ")} (the host's dynamic loader would read it)`);
  if (!principal.installationAdmin) {
    if (request.network === "host" && !options.allowHostNetwork) {
      throw new CiabError("forbidden", "network host is for installation admins unless [policy] allow_host_network = true");
    }
    checkLimits(options.limits, runtime, request);
  }
  return { workspaceID: principal.workspaceID, userID: principal.userID, runtime, request } as SandboxGrant;
}

function checkLimits(limits: SandboxLimits, runtime: Runtime, request: CreateSandboxRequest): void {
  const refuse = (what: string, key: string) => new CiabError("forbidden", `${what} is not allowed here ([policy] ${key})`);
  if (limits.runtimes.length > 0 && !limits.runtimes.includes(runtime.name)) throw refuse(`runtime ${runtime.name}`, "runtimes");
  const image = request.image ?? runtime.defaultImage;
  const ownBuild = limits.workspaceImages !== false && image.startsWith("img_");
  if (limits.images.length > 0 && image !== runtime.defaultImage && !ownBuild && !limits.images.includes(image)) throw refuse(`image ${image}`, "images");
  const resources = request.resources ?? {};
  const over = (asked: number | undefined, cap: number | undefined) => asked !== undefined && cap !== undefined && asked > cap;
  if (over(resources.cpus, limits.maxCpus)) throw refuse(`${resources.cpus} cpus`, "max_cpus");
  if (over(resources.memory_mb, limits.maxMemoryMB)) throw refuse(`${resources.memory_mb} MB of memory`, "max_memory_mb");
  if (over(resources.pids, limits.maxPids)) throw refuse(`${resources.pids} pids`, "max_pids");
}
