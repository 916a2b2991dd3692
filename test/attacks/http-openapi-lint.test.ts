import { createConfig, lintFromString } from "@redocly/openapi-core";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startTestServer, type TestServer } from "../harness/test-server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ env: { CIAB_RUNTIME_ENABLED: "local" } });
});
afterAll(async () => server?.close());

/** Redocly's recommended rules over the document the server serves: no errors, and every warning listed. */
test("the OpenAPI document passes Redocly's recommended lint", async () => {
  const source = await (await fetch(`${server.url}/api/v1/openapi.json`)).text();
  const config = await createConfig({ extends: ["recommended"] });
  const problems = await lintFromString({ source, absoluteRef: "openapi.json", config });
  const describe = (problem: (typeof problems)[number]) =>
    `${problem.severity} ${problem.ruleId}: ${problem.message} at ${problem.location.map((place) => place.pointer).join(", ")}`;
  const errors = problems.filter((problem) => problem.severity === "error");
  const warnings = problems.filter((problem) => problem.severity === "warn");
  if (warnings.length > 0) console.log(warnings.map(describe).join("\n"));
  expect(errors.map(describe)).toEqual([]);
});
