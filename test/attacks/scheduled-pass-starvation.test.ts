import { expect, test } from "vitest";
import { runPasses } from "../../packages/server/src/lambda/scheduled-handler.js";

/**
 * One pass of the scheduled Lambda that takes all the time it is given (ECS throttling the reconciler, a
 * workspace that made thousands of sandboxes for the accrual to fold) must not leave the passes after it undone
 * in every invocation: the max-runtime killer and the cost accrual are what hold tenants to their budgets.
 */
const hog = (honoursSignal: boolean) => (signal: AbortSignal) =>
  new Promise<never>((_, reject) => {
    if (honoursSignal) signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });

test.each([
  ["a pass that stops at its signal", true],
  ["a pass that ignores its signal", false],
])("%s leaves time for every pass after it", async (_, honoursSignal) => {
  const ran: string[] = [];
  const quick = (name: string) => async () => void ran.push(name);
  const started = performance.now();
  const report = await runPasses(
    [
      { name: "reconciler", pass: hog(honoursSignal) },
      { name: "sandbox-lifetimes", pass: quick("sandbox-lifetimes") },
      { name: "cost-accrual", pass: quick("cost-accrual") },
      { name: "max-runtime", pass: quick("max-runtime") },
    ],
    Date.now() + 1_000,
  );
  expect(performance.now() - started).toBeLessThan(1_200);
  expect(ran).toEqual(["sandbox-lifetimes", "cost-accrual", "max-runtime"]);
  expect(report.passes.reconciler).toMatchObject({ ok: false });
  expect(report.passes["max-runtime"]).toMatchObject({ ok: true });
}, 5_000);
