import { afterEach, describe, expect, it } from "vitest";
import { startModelServer, type ModelServer } from "./model-server.js";
import { errorScript, findWorkDirectory } from "./scripts.js";

let server: ModelServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${server!.url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
}

/** The `data:` payloads of an SSE answer, parsed (the chat `[DONE]` marker kept as a string). */
async function events(response: Response): Promise<unknown[]> {
  const text = await response.text();
  return text
    .split("\n")
    .filter((line) => line.startsWith("data: "))
    .map((line) => line.slice(6))
    .map((data) => (data === "[DONE]" ? data : (JSON.parse(data) as unknown)));
}

const writeTool = { name: "write", input_schema: { type: "object", properties: { path: { type: "string" }, content: { type: "string" } } } };

describe("scripted model server", () => {
  it("answers Anthropic messages with a streamed tool call, then text once a tool result is present", async () => {
    server = await startModelServer();
    const first = await post("/anthropic/v1/messages?beta=true", {
      model: "m",
      stream: true,
      system: "Working directory: /workspace",
      tools: [writeTool],
      messages: [{ role: "user", content: "go" }],
    }, { "x-api-key": "token-1", "user-agent": "claude-cli/2.1.197" });
    const stream = (await events(first)) as { type: string; delta?: { partial_json?: string }; usage?: unknown; message?: { usage: unknown } }[];
    expect(stream.map((event) => event.type)).toEqual([
      "message_start",
      "content_block_start",
      "content_block_delta",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
      "content_block_start",
      "content_block_delta",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    const input = JSON.parse(stream.filter((event) => event.delta?.partial_json !== undefined).map((event) => event.delta!.partial_json).join("")) as unknown;
    expect(input).toEqual({ path: "/workspace/hello.txt", content: "hello from claude-code" });
    expect(stream.at(-2)!.usage).toEqual({ output_tokens: 30 });

    const second = await post("/v1/messages", {
      model: "m",
      tools: [writeTool],
      messages: [{ role: "user", content: [{ type: "tool_result", tool_use_id: "t", content: "ok" }] }],
    });
    expect(await second.json()).toMatchObject({ content: [{ type: "text", text: "done: hello.txt written" }], stop_reason: "end_turn", usage: { input_tokens: 120, output_tokens: 30 } });
    expect(server.requests.map((request) => [request.path, request.route])).toEqual([
      ["/anthropic/v1/messages?beta=true", "/v1/messages"],
      ["/v1/messages", "/v1/messages"],
    ]);
    expect(server.requests[0]!.headers["x-api-key"]).toBe("token-1");
  });

  it("streams chat completions with tool-call deltas and a usage chunk", async () => {
    server = await startModelServer();
    const response = await post("/openai/v1/chat/completions", {
      model: "m",
      stream: true,
      stream_options: { include_usage: true },
      tools: [{ type: "function", function: { name: "bash", parameters: { type: "object", properties: { command: { type: "string" } } } } }],
      messages: [{ role: "user", content: "go" }],
    });
    const chunks = (await events(response)) as ({ choices: { delta: { tool_calls?: { function: { arguments: string } }[] }; finish_reason: string | null }[]; usage?: unknown } | string)[];
    expect(chunks.at(-1)).toBe("[DONE]");
    expect(chunks.at(-2)).toMatchObject({ choices: [], usage: { prompt_tokens: 120, completion_tokens: 30, total_tokens: 150 } });
    const objects = chunks.filter((chunk) => typeof chunk !== "string");
    const argumentsText = objects.flatMap((chunk) => chunk.choices.flatMap((choice) => choice.delta.tool_calls ?? [])).map((call) => call.function.arguments).join("");
    expect(JSON.parse(argumentsText)).toEqual({ command: "printf '%s' 'hello from agent' > 'hello.txt'" });
    expect(objects.flatMap((chunk) => chunk.choices.map((choice) => choice.finish_reason)).filter(Boolean)).toEqual(["tool_calls"]);
  });

  it("streams Responses events ending in response.completed with usage", async () => {
    server = await startModelServer();
    const response = await post("/v1/responses", {
      model: "m",
      stream: true,
      instructions: "<cwd>/repo</cwd>",
      tools: [{ type: "custom", name: "apply_patch" }],
      input: [{ type: "function_call_output", call_id: "c", output: "ok" }],
    });
    const stream = (await events(response)) as { type: string; response?: { usage?: unknown } }[];
    expect(stream[0]!.type).toBe("response.created");
    expect(stream.map((event) => event.type)).toContain("response.output_text.delta");
    expect(stream.at(-1)).toMatchObject({ type: "response.completed", response: { usage: { input_tokens: 120, output_tokens: 30, total_tokens: 150 } } });
  });

  it("answers probes and scripted errors", async () => {
    server = await startModelServer({ script: errorScript(400, "nope") });
    expect((await fetch(`${server.url}/anthropic`, { method: "HEAD" })).status).toBe(200);
    expect(await (await fetch(`${server.url}/openai/v1/models`)).json()).toMatchObject({ object: "list", data: expect.any(Array) });
    expect(await (await post("/v1/messages/count_tokens", { messages: [] })).json()).toEqual({ input_tokens: 120 });
    const failed = await post("/v1/messages", { messages: [] });
    expect(failed.status).toBe(400);
    expect(await failed.json()).toEqual({ type: "error", error: { type: "invalid_request_error", message: "nope" } });
    expect((await post("/v1/unknown", {})).status).toBe(404);
  });

  it("finds the working directory the agents describe", () => {
    expect(findWorkDirectory("Primary working directory: /tmp/x/work\n")).toBe("/tmp/x/work");
    expect(findWorkDirectory("<environment_context><cwd>/workspace</cwd></environment_context>")).toBe("/workspace");
    expect(findWorkDirectory("nothing here")).toBeUndefined();
  });
});
