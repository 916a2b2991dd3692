import path from "node:path";
import type { Reporter, TestModule } from "vitest/node";

/**
 * Prints the plain closing line `N passed, N failed, N skipped` that CI reads, whatever the runner prints,
 * after the tests that passed only on their retry (vitest.config.ts), by name: a flake to look into.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const flaky: string[] = [];
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === "passed" && test.diagnostic()?.flaky) flaky.push(`${path.relative(process.cwd(), module.moduleId)} > ${test.fullName}`);
        if (state === "passed") passed += 1;
        else if (state === "failed") failed += 1;
        else skipped += 1;
      }
      if (module.state() === "failed" && module.children.size === 0) failed += 1;
    }
    for (const name of flaky) process.stdout.write(`\npassed on retry (flaky): ${name}`);
    process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
