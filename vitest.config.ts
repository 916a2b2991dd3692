import { defaultServerConditions } from "vite";
import { defineConfig } from "vitest/config";

// Workspace packages that are also published resolve to their TypeScript sources under `ciab-source`;
// the rest as vitest resolves them by default (node's conditions, without bundlers' `module`).
const conditions = ["ciab-source", ...defaultServerConditions.filter((condition) => condition !== "module")];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: ["packages/*/src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 60_000,
    // The suite drives real dockerd, moto, bwrap and agent CLIs on a 2-core host; a test that fails once under
    // load runs once more, and the summary reporter names every test that needed it.
    retry: 1,
    hookTimeout: 120_000,
    globalSetup: ["test/global-setup.ts"],
    reporters: ["default", "./test/summary-reporter.ts"],
    pool: "forks",
    // Most files wait on machines (containers, moto, packer, sleeps), not on the CPU: two at once.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
