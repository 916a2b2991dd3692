import { describe, expect, test } from "vitest";
import { budgetSectionSchema } from "../config/config-schema.js";
import { createPricing } from "./pricing-service.js";
import { instancePricesUSDPerHour } from "./pricing-table.js";

const ec2 = (instanceType?: string) => ({ machineID: "i-1", sandboxID: "sbx_1", details: instanceType ? { instanceType } : {} });

describe("pricing", () => {
  test("the table covers nano to 2xlarge of the burstable families and large to 2xlarge of the others", () => {
    for (const family of ["t3", "t4g"]) {
      for (const size of ["nano", "micro", "small", "medium", "large", "xlarge", "2xlarge"]) {
        expect(instancePricesUSDPerHour[`${family}.${size}`], `${family}.${size}`).toBeGreaterThan(0);
      }
    }
    for (const family of ["m5", "m6i", "m7i", "c5", "c6i", "r5"]) {
      for (const size of ["large", "xlarge", "2xlarge"]) expect(instancePricesUSDPerHour[`${family}.${size}`], `${family}.${size}`).toBeGreaterThan(0);
    }
  });

  test("ec2 is priced from the instance type in the machine's details, config first", () => {
    const pricing = createPricing(budgetSectionSchema.parse({ prices: { "t3.medium": 0.05, "x9.huge": 7 } }));
    expect(pricing.usdPerHour("ec2", ec2("t3.medium"))).toBe(0.05);
    expect(pricing.usdPerHour("ec2", ec2("x9.huge"))).toBe(7);
    expect(pricing.usdPerHour("ec2", ec2("m5.large"))).toBe(0.096);
    expect(pricing.usdPerHour("ec2", ec2("z1.odd"))).toBe(1);
    expect(pricing.usdPerHour("ec2", ec2())).toBe(1);
    expect(pricing.usdPerHour("ec2", null)).toBe(0);
  });

  test("local and docker cost what config says (nothing by default); ec2 alone stops billing when paused", () => {
    expect(createPricing(budgetSectionSchema.parse({})).usdPerHour("local", null)).toBe(0);
    const pricing = createPricing(budgetSectionSchema.parse({ local_usd_per_hour: "0.5", docker_usd_per_hour: 0.25 }));
    expect(pricing.usdPerHour("local", null)).toBe(0.5);
    expect(pricing.usdPerHour("docker", null)).toBe(0.25);
    expect(pricing.billsPaused("local")).toBe(true);
    expect(pricing.billsPaused("docker")).toBe(true);
    expect(pricing.billsPaused("ec2")).toBe(false);
  });

  test("prices come from the environment as name=value pairs", () => {
    const config = budgetSectionSchema.parse({ prices: "t3.medium=0.05, m5.large = 0.1" });
    expect(config.prices).toEqual({ "t3.medium": 0.05, "m5.large": 0.1 });
    expect(() => budgetSectionSchema.parse({ prices: "t3.medium=lots" })).toThrow();
  });
});
