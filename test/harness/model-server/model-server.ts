import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { answerAnthropicCountTokens, answerAnthropicMessages } from "./anthropic-messages.js";
import { answerGoogleCountTokens, answerGoogleGenerateContent, parseGeminiRoute } from "./google-generate-content.js";
import { answerOpenAIChat } from "./openai-chat.js";
import { answerOpenAIResponses } from "./openai-responses.js";
import { helloFileScript, type ModelScript } from "./scripts.js";
import { writeJSON } from "./sse.js";

export interface RecordedRequest {
  method: string;
  /** The path as sent, query included (`/anthropic/v1/messages?beta=true`). */
  path: string;
  /** The path with the query and any `/anthropic`, `/openai` or `/google` prefix removed (`/v1/messages`). */
  route: string;
  headers: Record<string, string>;
  /** Parsed JSON when the body is JSON, else the raw text (empty for none). */
  body: unknown;
}

export interface ModelServer {
  /** `http://127.0.0.1:PORT`; the APIs answer at `/v1/...` and `/v1beta/...` and under `/anthropic`, `/openai`, `/google`. */
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/** Fake API endpoint: the script decides each answer from the request; every request is recorded. */
export async function startModelServer(options: { script?: ModelScript } = {}): Promise<ModelServer> {
  const script = options.script ?? helloFileScript();
  const requests: RecordedRequest[] = [];
  const server = createServer((request, response) => {
    void handle(request, response, script, requests).catch((error: unknown) => {
      if (!response.headersSent) writeJSON(response, 500, { error: { type: "api_error", message: String(error) } });
      else response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function handle(request: IncomingMessage, response: ServerResponse, script: ModelScript, requests: RecordedRequest[]): Promise<void> {
  const rawBody = await readBody(request);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
  const url = request.url ?? "/";
  const route = url.split("?")[0]!.replace(/^\/(anthropic|openai|google)(?=\/|$)/, "") || "/";
  let body: unknown = rawBody;
  try {
    if (rawBody !== "") body = JSON.parse(rawBody);
  } catch {
    // Not JSON: kept as text.
  }
  const method = request.method ?? "GET";
  requests.push({ method, path: url, route, headers, body });
  const json = typeof body === "object" && body !== null ? (body as Record<string, never>) : {};
  const gemini = method === "POST" ? parseGeminiRoute(route) : undefined;

  if (method === "HEAD") {
    response.writeHead(200).end();
  } else if (method === "POST" && route === "/v1/messages") {
    answerAnthropicMessages(json, headers, script, response);
  } else if (method === "POST" && route === "/v1/messages/count_tokens") {
    answerAnthropicCountTokens(response);
  } else if (method === "POST" && route === "/v1/chat/completions") {
    answerOpenAIChat(json, headers, script, response);
  } else if (method === "POST" && route === "/v1/responses") {
    answerOpenAIResponses(json, headers, script, response);
  } else if (gemini !== undefined && (gemini.method === "generateContent" || gemini.method === "streamGenerateContent")) {
    const stream = gemini.method === "streamGenerateContent";
    const sse = new URLSearchParams(url.split("?")[1] ?? "").get("alt") === "sse";
    answerGoogleGenerateContent(json, gemini.model, { stream, sse }, headers, script, response);
  } else if (gemini?.method === "countTokens") {
    answerGoogleCountTokens(response);
  } else if (method === "GET" && route === "/v1/models") {
    const data = ["scripted-model", "claude-sonnet-4-5", "gpt-5.5"].map((id) => ({ id, object: "model", type: "model", display_name: id, created: 0, owned_by: "ciab" }));
    writeJSON(response, 200, { object: "list", data, has_more: false, first_id: "scripted-model", last_id: "gpt-5.5" });
  } else if (method === "GET") {
    writeJSON(response, 200, {});
  } else {
    writeJSON(response, 404, { error: { type: "not_found_error", message: `scripted model server: no ${method} ${route}` } });
  }
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    request.on("data", (part: Buffer) => parts.push(part));
    request.on("end", () => resolve(Buffer.concat(parts).toString("utf8")));
    request.on("error", reject);
  });
}
