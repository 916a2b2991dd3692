import { CiabError } from "@ciab/protocol";
import type { MachineConfig, MachineDownloadSource } from "../runtimes/runtime.js";
import type { MachineDownloadSigner, SignedQuery } from "./machine-download-signer.js";

interface Offer {
  config: MachineConfig;
  expires: number;
}

/**
 * A machine's config (its sandbox env), handed out once through a signed URL in its user-data. User-data stays
 * readable (DescribeInstanceAttribute, the instance's metadata service) long after boot, so what it names must
 * be spent: the first fetch takes the offer, and a later one, or one after the URL expired, is refused.
 * Offers live in this process only, like the reverse channel's tokens (docs/decisions/0022-ec2-bootstrap-downloads.md).
 */
export class MachineConfigOffers {
  readonly #offers = new Map<string, Offer>();

  constructor(
    private readonly signer: MachineDownloadSigner,
    private readonly now: () => number = Date.now,
  ) {}

  /** The URL that serves `config` once; replaces the sandbox's earlier offer. */
  offer(sandboxID: string, config: MachineConfig): string {
    this.#sweep();
    const expires = this.signer.expiry();
    this.#offers.set(sandboxID, { config, expires });
    return this.signer.url("config", sandboxID, expires);
  }

  /** Spends the offer the query names; `unauthorized` when the signature is bad or the offer spent or expired. */
  take(query: SignedQuery): MachineConfig {
    this.signer.verify("config", query);
    const offer = this.#offers.get(query.sandbox);
    if (offer === undefined || offer.expires !== query.expires) {
      throw new CiabError("unauthorized", "the config URL was used already");
    }
    this.#offers.delete(query.sandbox);
    return offer.config;
  }

  withdraw(sandboxID: string): void {
    this.#offers.delete(sandboxID);
  }

  #sweep(): void {
    const seconds = this.now() / 1000;
    for (const [sandboxID, offer] of this.#offers) if (offer.expires < seconds) this.#offers.delete(sandboxID);
  }
}

/** What the ec2 runtime hands its instances: signed file URLs and single-use config offers. */
export function machineDownloadSource(signer: MachineDownloadSigner, offers: MachineConfigOffers): MachineDownloadSource {
  return {
    files: (sandboxID) => signer.urls(sandboxID),
    offerConfig: (sandboxID, config) => offers.offer(sandboxID, config),
    withdrawConfig: (sandboxID) => offers.withdraw(sandboxID),
  };
}
