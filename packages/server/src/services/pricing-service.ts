import type { RuntimeName } from "@ciab/protocol";
import type { BudgetConfig } from "../config/config-schema.js";
import type { Machine } from "../runtimes/runtime.js";
import { instancePricesUSDPerHour } from "./pricing-table.js";

export interface Pricing {
  /**
   * USD per hour of a sandbox's machine. EC2 is priced by the instance type and Fargate by the task size
   * that their runtimes record in the machine's details, so it is known only once the machine is.
   */
  usdPerHour(runtime: RuntimeName, machine: Machine | null): number;
  /** Whether a paused machine of this runtime still costs (docs/decisions/0013-budget.md). */
  billsPaused(runtime: RuntimeName): boolean;
}

export function createPricing(config: Pick<BudgetConfig, "local_usd_per_hour" | "docker_usd_per_hour" | "fargate_usd_per_hour" | "fargate_vcpu_usd_per_hour" | "fargate_gib_usd_per_hour" | "prices" | "ec2_unknown_usd_per_hour">): Pricing {
  const table: Record<string, number> = { ...instancePricesUSDPerHour, ...config.prices };
  return {
    usdPerHour(runtime, machine) {
      switch (runtime) {
        case "local":
          return config.local_usd_per_hour;
        case "docker":
          return config.docker_usd_per_hour;
        case "fargate": {
          // Fargate bills the task's vCPUs and memory, which its runtime records in the machine's details.
          const { vcpus, memoryGiB } = machine?.details ?? {};
          if (typeof vcpus !== "number" || typeof memoryGiB !== "number") return config.fargate_usd_per_hour;
          return vcpus * config.fargate_vcpu_usd_per_hour + memoryGiB * config.fargate_gib_usd_per_hour;
        }
        case "ec2": {
          if (!machine) return 0;
          const instanceType = machine.details.instanceType;
          if (typeof instanceType !== "string") return config.ec2_unknown_usd_per_hour;
          return Object.hasOwn(table, instanceType) ? table[instanceType]! : config.ec2_unknown_usd_per_hour;
        }
      }
    },
    // A stopped EC2 instance bills only its disks; a frozen jail, container or Fargate task holds its capacity.
    billsPaused: (runtime) => runtime !== "ec2",
  };
}
