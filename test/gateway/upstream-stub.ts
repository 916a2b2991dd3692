import http, { type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

/** What the stub saw of one request. */
export interface StubRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** Resolves when the gateway's connection for this request closed (abort or completion). */
  closed: Promise<void>;
}

/**
 * A fake Anthropic / OpenAI / Google upstream on 127.0.0.1 with known usage. Streams SSE when the request
 * asks for it (`"stream": true`, `alt=sse`); `hold()` makes the next stream stop after its first event
 * until released, to prove the gateway does not buffer.
 */
export interface UpstreamStub {
  url: string;
  requests: StubRequest[];
  /** The next streamed response sends its first event, then waits for the returned release function. */
  hold(): () => void;
  close(): Promise<void>;
}

export const stubUsage = {
  anthropic: { input_tokens: 1000, cache_read_input_tokens: 2000, cache_creation_input_tokens: 400, output_tokens: 500 },
  openai: { prompt_tokens: 1200, completion_tokens: 300, prompt_tokens_details: { cached_tokens: 200 } },
  google: { promptTokenCount: 800, candidatesTokenCount: 100, thoughtsTokenCount: 50 },
};

const sse = (event: string | undefined, data: unknown): string =>
  `${event ? `event: ${event}\n` : ""}data: ${JSON.stringify(data)}\n\n`;

function anthropicEvents(model: string): string[] {
  const { output_tokens, ...input } = stubUsage.anthropic;
  return [
    sse("message_start", { type: "message_start", message: { id: "msg_1", model, usage: { ...input, output_tokens: 1 } } }),
    sse("content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Hello" } }),
    sse("content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: " world" } }),
    sse("message_delta", { type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { output_tokens } }),
    sse("message_stop", { type: "message_stop" }),
  ];
}

function openAIChatEvents(model: string): string[] {
  const chunk = (content: string) => ({ id: "c1", model, choices: [{ index: 0, delta: { content } }], usage: null });
  return [
    sse(undefined, chunk("Hello")),
    sse(undefined, chunk(" world")),
    sse(undefined, { id: "c1", model, choices: [], usage: stubUsage.openai }),
    "data: [DONE]\n\n",
  ];
}

function openAIResponsesEvents(model: string): string[] {
  const usage = { input_tokens: 900, input_tokens_details: { cached_tokens: 100 }, output_tokens: 70, output_tokens_details: { reasoning_tokens: 20 } };
  return [
    sse("response.created", { type: "response.created", response: { id: "r1", model, usage: null } }),
    sse("response.output_text.delta", { type: "response.output_text.delta", delta: "Hi" }),
    sse("response.completed", { type: "response.completed", response: { id: "r1", model, usage } }),
  ];
}

function googleEvents(model: string): string[] {
  const chunk = (text: string, usageMetadata: object) => ({ candidates: [{ content: { parts: [{ text }] } }], usageMetadata, modelVersion: model });
  return [sse(undefined, chunk("Hello", { promptTokenCount: 800 })), sse(undefined, chunk(" world", stubUsage.google))];
}

export async function startUpstreamStub(): Promise<UpstreamStub> {
  const requests: StubRequest[] = [];
  let holdGate: Promise<void> | undefined;

  const server = http.createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString();
    requests.push({
      method: request.method ?? "",
      url: request.url ?? "",
      headers: request.headers,
      body,
      closed: new Promise((resolve) => response.once("close", () => resolve())),
    });
    const parsed = (body ? JSON.parse(body) : {}) as { stream?: boolean; model?: string };
    const url = new URL(request.url ?? "/", "http://stub");
    const model = parsed.model ?? /models\/([^:]+)/.exec(url.pathname)?.[1] ?? "unknown";
    const streaming = parsed.stream === true || url.searchParams.get("alt") === "sse";

    let events: string[];
    if (url.pathname.endsWith("/v1/messages")) events = anthropicEvents(model);
    else if (url.pathname.endsWith("/chat/completions")) events = openAIChatEvents(model);
    else if (url.pathname.endsWith("/responses")) events = openAIResponsesEvents(model);
    else if (url.pathname.includes(":streamGenerateContent") || url.pathname.includes(":generateContent")) events = googleEvents(model);
    else {
      response.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: "no such route" } }));
      return;
    }

    if (!streaming) {
      const last = events.filter((event) => event.includes("usage")).at(-1) ?? "";
      const json = JSON.parse(/data: (.*)\n/.exec(last)?.[1] ?? "{}") as Record<string, unknown>;
      const message = (json.message ?? json.response ?? json) as Record<string, unknown>;
      const usage = url.pathname.endsWith("/v1/messages") ? stubUsage.anthropic : message.usage;
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ...message, model, usage }));
      return;
    }
    response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    const gate = holdGate;
    holdGate = undefined;
    for (const [index, event] of events.entries()) {
      if (response.destroyed) return;
      response.write(event);
      if (index === 0 && gate) await gate;
    }
    response.end();
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    hold() {
      let release!: () => void;
      holdGate = new Promise((resolve) => (release = resolve));
      return release;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
