import { lookup as dnsLookup } from "node:dns/promises";
import { BlockList, isIP, type LookupFunction } from "node:net";
import { CiabError } from "@ciab/protocol";
import { classifyAddress, type AddressClass } from "./address-class.js";

/** The `[policy]` keys that govern connections the server makes on a caller's behalf. */
export interface OutboundPolicyConfig {
  /** Private, CGNAT, link-local, ULA and reserved ranges become reachable; loopback and metadata never by this. */
  allowPrivateNetwork: boolean;
  /** Host names (exact, any case) or addresses / CIDRs that are reachable whatever they are. */
  allow: readonly string[];
}

/** Where a checked connection must go: the address that was checked, never a fresh lookup of `host`. */
export interface OutboundTarget {
  host: string;
  address: string;
  family: 4 | 6;
}

export interface OutboundPolicy {
  /**
   * Resolves `host` (a name or an IP literal, IPv6 with or without brackets) and checks every address it
   * resolves to. Throws `forbidden` with the same message whatever the reason, before any connection is
   * made, so a refusal tells nothing about what listens there.
   */
  resolve(host: string): Promise<OutboundTarget>;
  /** The same check, answering whether `host` would be refused; a name that does not resolve is not. */
  isRefused(host: string): Promise<boolean>;
}

/** For node's http/https/net `lookup` option: connects to the checked address whatever `hostname` is. */
export function pinnedLookup(target: OutboundTarget): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) callback(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  };
}

/** Reachable with `allow_private_network`; loopback, unspecified, metadata and multicast need an explicit entry. */
const privateClasses = new Set<AddressClass>(["private", "shared", "link-local", "unique-local", "reserved"]);

const lookupTimeoutMs = 10_000;

export type HostLookup = (host: string) => Promise<Array<{ address: string; family: number }>>;

/**
 * The one policy for connections the control plane opens on someone's behalf (repository clones today;
 * image templates and webhooks next): public addresses are reachable; the networks of the host, the cloud
 * and the operator are not, unless `[policy]` says so. Checked after DNS resolution, for every address a
 * name has, and the caller then connects to the checked address (no second lookup to rebind).
 */
export function createOutboundPolicy(config: OutboundPolicyConfig, lookup: HostLookup = defaultLookup): OutboundPolicy {
  const allowedHosts = new Set<string>();
  const allowedRanges = new BlockList();
  for (const entry of config.allow) {
    const range = parseRange(entry);
    if (range) allowedRanges.addSubnet(range.network, range.prefix, range.family);
    else allowedHosts.add(normalizeHost(entry));
  }

  const allowed = (address: string): boolean => {
    const family = isIP(address) === 6 ? "ipv6" : "ipv4";
    if (allowedRanges.check(address, family)) return true;
    const kind = classifyAddress(address);
    if (kind === "public") return true;
    return config.allowPrivateNetwork && kind !== undefined && privateClasses.has(kind);
  };

  async function addressesOf(host: string): Promise<Array<{ address: string; family: 4 | 6 }>> {
    if (isIP(host)) return [{ address: host, family: isIP(host) as 4 | 6 }];
    const timeout = new Promise<never>((_, reject) => {
      setTimeout(() => reject(new CiabError("invalid_request", `cannot resolve ${host}: no answer in time`)), lookupTimeoutMs).unref();
    });
    const found = await Promise.race([lookup(host), timeout]).catch((error: unknown) => {
      if (error instanceof CiabError) throw error;
      throw new CiabError("invalid_request", `cannot resolve ${host}`, { cause: error });
    });
    if (found.length === 0) throw new CiabError("invalid_request", `cannot resolve ${host}`);
    return found.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
  }

  async function resolve(rawHost: string): Promise<OutboundTarget> {
    const host = normalizeHost(rawHost);
    if (host === "") throw refusal(rawHost);
    const addresses = await addressesOf(host);
    const trusted = allowedHosts.has(host);
    // A name with one inside address among public ones is refused: a resolver could hand out either.
    if (!trusted && !addresses.every(({ address }) => allowed(address))) throw refusal(host);
    const [first] = addresses;
    return { host, address: first!.address, family: first!.family };
  }

  return {
    resolve,
    async isRefused(host) {
      try {
        await resolve(host);
        return false;
      } catch (error) {
        return error instanceof CiabError && error.code === "forbidden";
      }
    },
  };
}

/**
 * The single answer to every refused destination and every redirect: it names the host it was given and
 * nothing it learned, so it reads the same whether anything listens there.
 */
export function refusal(host: string): CiabError {
  return new CiabError(
    "forbidden",
    `${host} is not reachable under [policy]: loopback, private, link-local and cloud metadata addresses are refused unless [policy] allow_private_network or outbound_allow permits them, and redirects are not followed`,
    { context: { policy: "outbound" } },
  );
}

export function isOutboundRefusal(error: unknown): boolean {
  return error instanceof CiabError && error.context?.policy === "outbound";
}

/** `[::1]` → `::1`; `Example.COM.` → `example.com`; a zone id is dropped (its scope is this host's). */
function normalizeHost(host: string): string {
  return host.trim().replace(/^\[(.*)\]$/, "$1").replace(/%.*$/, "").replace(/\.$/, "").toLowerCase();
}

export function parseRange(entry: string): { network: string; prefix: number; family: "ipv4" | "ipv6" } | undefined {
  const [network = "", prefixText] = entry.trim().replace(/^\[(.*)\]/, "$1").split("/");
  const version = isIP(network);
  if (version === 0) return undefined;
  const prefix = prefixText === undefined ? (version === 4 ? 32 : 128) : Number(prefixText);
  return { network, prefix, family: version === 4 ? "ipv4" : "ipv6" };
}

async function defaultLookup(host: string): Promise<Array<{ address: string; family: number }>> {
  return dnsLookup(host, { all: true, verbatim: true });
}
