import type { ServerResponse } from "node:http";
import { scriptedUsage, type ModelScript, type OfferedTool } from "./scripts.js";
import { chunks, startEventStream, writeEvent, writeJSON } from "./sse.js";

interface GeminiPart {
  text?: string;
  thought?: boolean;
  functionCall?: { name?: string; args?: unknown };
  functionResponse?: { name?: string; response?: unknown };
}

interface GeminiFunctionDeclaration {
  name?: string;
  parameters?: OfferedTool["parameters"];
  /** What recent clients (gemini-cli) send instead of `parameters`: plain JSON Schema. */
  parametersJsonSchema?: OfferedTool["parameters"];
}

interface GeminiRequest {
  contents?: { role?: string; parts?: GeminiPart[] }[];
  systemInstruction?: string | { parts?: GeminiPart[] };
  tools?: { functionDeclarations?: GeminiFunctionDeclaration[] }[];
}

/** The Gemini API's `{ model, method }` of a `/v1beta/models/{model}:{method}` route, else undefined. */
export function parseGeminiRoute(route: string): { model: string; method: string } | undefined {
  const match = /^\/v1(?:beta|alpha)?\/models\/([^/:]+):([A-Za-z]+)$/.exec(route);
  if (match?.[1] === undefined || match[2] === undefined) return undefined;
  return { model: decodeURIComponent(match[1]), method: match[2] };
}

const statusNames: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  503: "UNAVAILABLE",
};

/**
 * `POST /v1beta/models/{model}:generateContent` and `:streamGenerateContent` (SSE with `?alt=sse`, else a
 * JSON array of the same chunks): one candidate holding the script's text and function call, then a last
 * chunk with `finishReason` and `usageMetadata`.
 */
export function answerGoogleGenerateContent(
  body: GeminiRequest,
  model: string,
  options: { stream: boolean; sse: boolean },
  headers: Record<string, string>,
  script: ModelScript,
  response: ServerResponse,
): void {
  const texts: string[] = [];
  let toolResults = 0;
  const instruction = body.systemInstruction;
  if (typeof instruction === "string") texts.push(instruction);
  else for (const part of instruction?.parts ?? []) if (typeof part.text === "string") texts.push(part.text);
  for (const content of body.contents ?? []) {
    for (const part of content.parts ?? []) {
      if (part.functionResponse !== undefined) toolResults += 1;
      if (typeof part.text === "string") texts.push(part.text);
    }
  }
  const tools: OfferedTool[] = (body.tools ?? [])
    .flatMap((tool) => tool.functionDeclarations ?? [])
    .filter((declaration) => typeof declaration.name === "string")
    .map((declaration) => ({ name: declaration.name!, kind: "function", parameters: declaration.parametersJsonSchema ?? declaration.parameters }));
  const reply = script({ api: "google-generate-content", model, tools, toolResults, text: texts.join("\n"), headers });
  if (reply.error !== undefined) {
    const status = statusNames[reply.error.status] ?? (reply.error.status >= 500 ? "INTERNAL" : "FAILED_PRECONDITION");
    writeJSON(response, reply.error.status, { error: { code: reply.error.status, message: reply.error.message, status } });
    return;
  }
  const usageMetadata = {
    promptTokenCount: scriptedUsage.inputTokens,
    candidatesTokenCount: scriptedUsage.outputTokens,
    totalTokenCount: scriptedUsage.inputTokens + scriptedUsage.outputTokens,
  };
  const functionCall =
    reply.toolCall === undefined
      ? undefined
      : { name: reply.toolCall.name, args: typeof reply.toolCall.input === "string" ? { input: reply.toolCall.input } : reply.toolCall.input };
  const candidate = (parts: GeminiPart[], finishReason?: string) => ({
    content: { role: "model", parts },
    index: 0,
    ...(finishReason === undefined ? {} : { finishReason }),
  });
  const responseID = `scripted-${Date.now().toString(36)}`;
  const chunk = (parts: GeminiPart[], last: boolean) => ({
    candidates: [candidate(parts, last ? "STOP" : undefined)],
    ...(last ? { usageMetadata } : {}),
    modelVersion: model,
    responseId: responseID,
  });
  if (!options.stream) {
    const parts: GeminiPart[] = [...(reply.text === undefined ? [] : [{ text: reply.text }]), ...(functionCall === undefined ? [] : [{ functionCall }])];
    writeJSON(response, 200, chunk(parts, true));
    return;
  }
  // Text in a few chunks, the function call whole (the API never splits one), and the finish on the last.
  const pieces: GeminiPart[][] = chunks(reply.text ?? "").map((text) => [{ text }]);
  if (functionCall !== undefined) pieces.push([{ functionCall }]);
  if (pieces.length === 0) pieces.push([{ text: "" }]);
  const streamed = pieces.map((parts, index) => chunk(parts, index === pieces.length - 1));
  if (!options.sse) {
    writeJSON(response, 200, streamed);
    return;
  }
  startEventStream(response);
  for (const each of streamed) writeEvent(response, each);
  response.end();
}

/** `POST /v1beta/models/{model}:countTokens`: the scripted prompt size. */
export function answerGoogleCountTokens(response: ServerResponse): void {
  writeJSON(response, 200, { totalTokens: scriptedUsage.inputTokens });
}
