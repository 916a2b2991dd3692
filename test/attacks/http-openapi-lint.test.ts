import { createConfig, lintFromString } from "@redocly/openapi-core";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startTestServer, type TestServer } from "../harness/test-server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ env: { CIAB_RUNTIME_ENABLED: "local" } });
});
afterAll(async () => server?.close());

/** Warnings that stay, each with its reason; any other warning fails like an error. */
const acceptedWarnings: { rule: string; at: RegExp; reason: string }[] = [
  { rule: "info-license", at: /^#\/info$/, reason: "the project has chosen no license yet" },
  { rule: "operation-2xx-response", at: /~1attach\/get\/responses$/, reason: "a WebSocket upgrade answers 101, never 2xx" },
];

/** Redocly's recommended rules, some made errors, over the document the server serves. */
test("the OpenAPI document passes Redocly's recommended lint, stricter where it is cheap", async () => {
  const source = await (await fetch(`${server.url}/api/v1/openapi.json`)).text();
  const config = await createConfig({
    extends: ["recommended"],
    rules: {
      "operation-tag-defined": "error",
      "operation-4xx-response": "error",
      "operation-operationId": "error",
      "operation-operationId-unique": "error",
      "operation-summary": "error",
      "no-invalid-schema-examples": "error",
      "no-invalid-media-type-examples": "error",
      "security-defined": "error",
      "no-server-example.com": "error",
    },
  });
  const problems = await lintFromString({ source, absoluteRef: "openapi.json", config });
  const where = (problem: (typeof problems)[number]) => problem.location.map((place) => place.pointer).join(", ");
  const describe = (problem: (typeof problems)[number]) => `${problem.severity} ${problem.ruleId}: ${problem.message} at ${where(problem)}`;
  const accepted = (problem: (typeof problems)[number]) =>
    problem.severity === "warn" && acceptedWarnings.some(({ rule, at }) => problem.ruleId === rule && at.test(where(problem)));
  expect(problems.filter((problem) => !accepted(problem)).map(describe)).toEqual([]);
});
