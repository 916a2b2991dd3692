import fc from "fast-check";
import { afterAll, beforeAll, expect, test } from "vitest";
import { errorCodes } from "../../packages/protocol/src/index.js";
import { startAttackServer, type AttackServer } from "./http-attack-server.js";

/**
 * Property: whatever arrives on any documented route (path params, query, body, headers, random or
 * malformed), the answer is never a 5xx, and every error answer is `{ error: { code, message } }` with a
 * registered code. The run is bounded in count and in time.
 */
const numRuns = 400;
const timeLimitMs = 25_000;
const requestTimeoutMs = 5_000;

interface JSONSchema {
  type?: string | string[];
  enum?: unknown[];
  properties?: Record<string, JSONSchema>;
  items?: JSONSchema;
  anyOf?: JSONSchema[];
  oneOf?: JSONSchema[];
  $ref?: string;
  additionalProperties?: JSONSchema | boolean;
}
interface Operation {
  method: string;
  path: string;
  parameters: { name: string; in: string; schema?: JSONSchema }[];
  body: JSONSchema | undefined;
}

let server: AttackServer;
let operations: Operation[];
let components: Record<string, JSONSchema>;
const known: Record<string, string[]> = { id: [], pid: [], name: ["FUZZ_SECRET"], stream_id: [] };

beforeAll(async () => {
  server = await startAttackServer({ CIAB_RUNTIME_ENABLED: "local" });
  const created = await server.api("POST", "/sandboxes", { runtime: "local" });
  known.id!.push(created.body.id);
  const started = await server.api("POST", `/sandboxes/${created.body.id}/processes`, { command: ["sleep", "300"] });
  known.pid!.push(String(started.body.pid));
  const document = (await server.api("GET", "/openapi.json")).body;
  components = document.components?.schemas ?? {};
  operations = Object.entries(document.paths as Record<string, Record<string, any>>).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => ["get", "post", "put", "delete", "patch"].includes(method))
      .map(([method, operation]) => ({
        method: method.toUpperCase(),
        path,
        parameters: operation.parameters ?? [],
        body: operation.requestBody?.content?.["application/json"]?.schema,
      })),
  );
});
afterAll(async () => server?.close());

const nasty = fc.constantFrom("%", "%ZZ", "%E0%A4%A", "%00", "a%00b", "..", "%2e%2e%2f", "%C0%AF", "\u0000", "x".repeat(5000), "-1", "1e309", "0x10", " ");

/** A string, sometimes hostile; `raw` ones are put into the URL without encoding. */
const textValue = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }).map((value) => ({ value, raw: false })) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 20 }).map((value) => ({ value, raw: false })) },
  { weight: 2, arbitrary: nasty.map((value) => ({ value, raw: true })) },
  { weight: 1, arbitrary: fc.integer({ min: -5, max: 1 << 30 }).map((value) => ({ value: String(value), raw: false })) },
);

function resolve(schema: JSONSchema | undefined): JSONSchema {
  if (schema?.$ref) return resolve(components[schema.$ref.replace("#/components/schemas/", "")]);
  return schema ?? {};
}

/** Values shaped like `schema`, mostly right, sometimes of the wrong type: the edges of validation. */
function fromSchema(input: JSONSchema | undefined, depth = 0): fc.Arbitrary<unknown> {
  const schema = resolve(input);
  const wrong = fc.oneof(fc.constant(null), fc.integer(), fc.string({ maxLength: 10 }), fc.boolean(), fc.constant({}), fc.constant([]));
  const alternatives = schema.anyOf ?? schema.oneOf;
  let right: fc.Arbitrary<unknown>;
  if (alternatives) right = fc.oneof(...alternatives.map((each) => fromSchema(each, depth + 1)));
  else if (schema.enum) right = fc.constantFrom(...schema.enum);
  else {
    const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
    switch (type) {
      case "object": {
        if (depth > 3) return fc.constant({});
        const entries = Object.entries(schema.properties ?? {}).map(([key, value]) => [key, fromSchema(value, depth + 1)] as const);
        const known = fc.record(Object.fromEntries(entries), { requiredKeys: [] });
        right = fc.oneof(known, fc.tuple(known, fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 2 })).map(([a, b]) => ({ ...b, ...a })));
        break;
      }
      case "array":
        right = depth > 3 ? fc.constant([]) : fc.array(fromSchema(schema.items, depth + 1), { maxLength: 4 });
        break;
      case "string":
        right = textValue.map((each) => each.value);
        break;
      case "integer":
      case "number":
        right = fc.oneof(fc.integer({ min: -10, max: 70_000 }), fc.double(), fc.constant(2 ** 53 + 1));
        break;
      case "boolean":
        right = fc.boolean();
        break;
      default:
        right = fc.jsonValue({ maxDepth: 2 });
    }
  }
  return fc.oneof({ weight: 5, arbitrary: right }, { weight: 1, arbitrary: wrong });
}

const body = (schema: JSONSchema | undefined) =>
  fc.oneof(
    { weight: 4, arbitrary: fromSchema(schema).map((value) => JSON.stringify(value)) },
    { weight: 1, arbitrary: fc.json({ maxDepth: 3 }) },
    { weight: 1, arbitrary: fc.string({ maxLength: 60 }) },
    { weight: 1, arbitrary: fc.constantFrom("{", '{"a":', "[1,2", "\u0000", '{"command":["true"]}', "null", '"x"', "1e999") },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );

const headers = fc.record(
  {
    "content-type": fc.oneof(
      { weight: 8, arbitrary: fc.constant("application/json") },
      { weight: 1, arbitrary: fc.constantFrom("application/json; charset=utf-8", "text/plain", "application/x-www-form-urlencoded", "", "application/jsonx", "*/*") },
    ),
    accept: fc.constantFrom("application/json", "text/event-stream", "*/*", "garbage"),
    authorization: fc.oneof(
      { weight: 8, arbitrary: fc.constant("valid") },
      { weight: 1, arbitrary: fc.constantFrom("Bearer nope", "Bearer ciab_" + "0".repeat(40), "Basic Zm9vOmJhcg==", "Bearer", "") },
    ),
    "last-event-id": fc.constantFrom("1", "-1", "abc", "99999999999999999999"),
    "x-random": fc.string({ maxLength: 30 }).filter((value) => /^[\x20-\x7e]*$/.test(value)),
  },
  { requiredKeys: ["authorization", "content-type"] },
);

function request(operation: Operation) {
  const pathParameters = operation.parameters.filter((parameter) => parameter.in === "path");
  const queryParameters = operation.parameters.filter((parameter) => parameter.in === "query");
  const param = (name: string) =>
    fc.oneof(
      { weight: 3, arbitrary: known[name]?.length ? fc.constantFrom(...known[name]!).map((value) => ({ value, raw: false })) : textValue },
      { weight: 2, arbitrary: textValue },
    );
  return fc.record({
    path: fc.tuple(...pathParameters.map((parameter) => param(parameter.name))).map((values) => {
      let path = operation.path;
      pathParameters.forEach((parameter, index) => {
        const { value, raw } = values[index]!;
        path = path.replace(`{${parameter.name}}`, raw ? value : encodeURIComponent(value));
      });
      return path;
    }),
    query: fc.tuple(
      ...queryParameters.map((parameter) => fc.option(fromSchema(parameter.schema).map((value) => [parameter.name, value] as const), { nil: undefined })),
      fc.option(fc.tuple(textValue, textValue), { nil: undefined }),
    ),
    body: operation.body || operation.method !== "GET" ? body(operation.body) : fc.constant(undefined),
    headers,
  });
}

function queryString(pairs: readonly unknown[]): string {
  const parts: string[] = [];
  for (const pair of pairs) {
    if (pair === undefined) continue;
    const [key, value] = pair as [unknown, unknown];
    const text = (part: unknown): string => {
      if (typeof part === "object" && part !== null && "raw" in part && "value" in part) {
        const { raw, value } = part as { raw: boolean; value: string };
        return raw ? value : encodeURIComponent(value);
      }
      return encodeURIComponent(typeof part === "string" ? part : (JSON.stringify(part) ?? ""));
    };
    parts.push(`${text(key)}=${text(value)}`);
  }
  return parts.length ? `?${parts.join("&")}` : "";
}

test("no route answers a 5xx or an untyped error, whatever it is sent", async () => {
  const byOperation = fc.constantFrom(...operations).chain((operation) => request(operation).map((input) => ({ operation, input })));
  const seen = new Map<string, number>();
  const statuses = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(byOperation, async ({ operation, input }) => {
      const { authorization, ...rest } = input.headers;
      const headers: Record<string, string> = { ...rest, authorization: authorization === "valid" ? `Bearer ${server.token}` : authorization };
      for (const [key, value] of Object.entries(headers)) if (value === "") delete headers[key];
      const url = `${server.url}${input.path}${queryString(input.query)}`;
      const response = await fetch(url, {
        method: operation.method,
        headers,
        ...(input.body !== undefined && operation.method !== "GET" && { body: input.body }),
        signal: AbortSignal.timeout(requestTimeoutMs),
      });
      const label = `${operation.method} ${url} ${JSON.stringify(input.body)?.slice(0, 200)} → ${response.status}`;
      seen.set(`${operation.method} ${operation.path}`, (seen.get(`${operation.method} ${operation.path}`) ?? 0) + 1);
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      if (response.status < 400) {
        await response.body?.cancel();
        return;
      }
      const text = await response.text();
      expect(response.status, `${label}: ${text.slice(0, 300)}`).toBeLessThan(500);
      const parsed = JSON.parse(text) as { error: { code: string; message: string } };
      expect(errorCodes, label).toContain(parsed.error.code);
      expect(parsed.error.message, label).toEqual(expect.any(String));
    }),
    { numRuns, interruptAfterTimeLimit: timeLimitMs, markInterruptAsFailure: false, seed: Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31) },
  );
  const total = [...seen.values()].reduce((sum, count) => sum + count, 0);
  console.log(`${total} requests over ${seen.size} of ${operations.length} operations; statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
  expect(seen.size).toBeGreaterThan(operations.length / 2);
  expect((await fetch(`${server.url}/api/v1/health`)).status).toBe(200);
}, 60_000);
