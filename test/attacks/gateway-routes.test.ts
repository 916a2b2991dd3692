import { afterAll, beforeAll, expect, test } from "vitest";
import type { SessionEvent } from "@ciab/protocol";
import { Ciab } from "../../packages/sdk/src/index.js";
import { startModelServer, type ModelServer } from "../harness/model-server/model-server.js";
import { startTestServer, type TestServer } from "../harness/test-server.js";

/** Paths off every API's list, and encoded ways back onto (or out of) it; each must stop at the gateway. */
const probes = [
  "/anthropic/v1/files",
  "/anthropic/v1/messages/batches",
  "/anthropic/v1/organizations/api_keys",
  "/anthropic/v1/../v1/messages",
  "/anthropic/v1/./messages",
  "/anthropic/v1/%2e%2e/internal",
  "/anthropic/v1/%2E%2E/%2e%2E/internal",
  "/anthropic/v1/..%2finternal",
  "/anthropic/v1%2fmessages",
  "/anthropic/v1%2Fmessages",
  "/anthropic/v1/%5c..%5cinternal",
  "/anthropic/v1/%5C..%5Cinternal",
  "/anthropic/v1\\..\\internal",
  "/anthropic/v1/%252e%252e/internal",
  "/anthropic/v1/%252f",
  "/anthropic/../openai/v1/files",
  "/openai/v1/files",
  "/openai/v1/fine_tuning/jobs",
  "/openai/v1/organization/admin_api_keys",
  "/google/v1beta/files",
  "/google/v1beta/tunedModels",
  "/google/v1beta/models/gemini-2.5-pro:streamGenerateContent/%2e%2e",
  "/mistral/v1/chat/completions",
  "/",
];

let model: ModelServer;
let server: TestServer;
let ciab: Ciab;

beforeAll(async () => {
  model = await startModelServer();
  server = await startTestServer({
    env: {
      CIAB_GATEWAY_ANTHROPIC_BASE_URL: `${model.url}/anthropic`,
      CIAB_GATEWAY_OPENAI_BASE_URL: `${model.url}/openai`,
      CIAB_GATEWAY_GOOGLE_BASE_URL: `${model.url}/google`,
    },
  });
  ciab = new Ciab({ url: server.url, token: server.token });
});

afterAll(async () => {
  await server?.close();
  await model?.close();
});

test("paths outside the lists, and encoded traversal, answer 403 inside the sandbox and never reach the upstream", async () => {
  // A shell session's script may call every API, so its token is good for all lists: what is refused is the path.
  const quoted = probes.map((probe) => `'${probe}'`).join(" ");
  const script = [
    'root="${CIAB_GATEWAY_ANTHROPIC_URL%/anthropic}"',
    'call() { curl -s --path-as-is -o /dev/null -w "%{http_code}" -X POST -H "x-api-key: $CIAB_GATEWAY_TOKEN" -H "authorization: Bearer $CIAB_GATEWAY_TOKEN" -d "{}" "$root$1"; }',
    `for probe in ${quoted}; do echo "$(call "$probe") $probe"; done`,
    'echo "$(call /anthropic/v1/messages/count_tokens) control"',
  ].join("\n");
  const session = await ciab.sessions.create({ provider: "shell", runtime: "local", prompt: script });
  const events: SessionEvent[] = [];
  for await (const event of ciab.sessions.follow(session.id)) events.push(event);
  const stdout = events
    .filter((event) => event.type === "shell.output" && event.data.stream === "stdout")
    .map((event) => Buffer.from(String(event.data.data), "base64").toString())
    .join("");
  const lines = stdout.trim().split("\n");
  expect(lines.at(-1)).toBe("200 control");
  expect(lines.slice(0, -1)).toEqual(probes.map((probe) => `403 ${probe}`));
  expect(model.requests.map((request) => request.path)).toEqual(["/anthropic/v1/messages/count_tokens"]);
});
