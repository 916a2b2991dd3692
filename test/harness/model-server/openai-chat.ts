import type { ServerResponse } from "node:http";
import { scriptedUsage, type ModelScript, type OfferedTool } from "./scripts.js";
import { chunks, startEventStream, writeEvent, writeJSON } from "./sse.js";

interface ChatRequest {
  model?: string;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  messages?: { role?: string; content?: string | { type?: string; text?: string }[] | null }[];
  tools?: { type?: string; function?: { name?: string; parameters?: OfferedTool["parameters"] } }[];
}

let nextID = 1;

/** `POST /v1/chat/completions`: one choice; streamed chunks end with a usage chunk when asked. */
export function answerOpenAIChat(body: ChatRequest, headers: Record<string, string>, script: ModelScript, response: ServerResponse): void {
  const model = body.model ?? "scripted-model";
  const texts: string[] = [];
  let toolResults = 0;
  for (const message of body.messages ?? []) {
    if (message.role === "tool") toolResults += 1;
    if (typeof message.content === "string") texts.push(message.content);
    else for (const part of message.content ?? []) if (typeof part.text === "string") texts.push(part.text);
  }
  const tools: OfferedTool[] = (body.tools ?? [])
    .filter((tool) => typeof tool.function?.name === "string")
    .map((tool) => ({ name: tool.function!.name!, kind: "function", parameters: tool.function!.parameters }));
  const reply = script({ api: "openai-chat", model, tools, toolResults, text: texts.join("\n"), headers });
  if (reply.error !== undefined) {
    writeJSON(response, reply.error.status, { error: { message: reply.error.message, type: reply.error.status >= 500 ? "server_error" : "invalid_request_error", code: null } });
    return;
  }
  const completionID = `chatcmpl-scripted-${nextID++}`;
  const created = Math.floor(Date.now() / 1000);
  const toolCall =
    reply.toolCall === undefined
      ? undefined
      : {
          id: `call_scripted_${nextID++}`,
          type: "function" as const,
          function: { name: reply.toolCall.name, arguments: JSON.stringify(typeof reply.toolCall.input === "string" ? { input: reply.toolCall.input } : reply.toolCall.input) },
        };
  const finishReason = toolCall === undefined ? "stop" : "tool_calls";
  const usage = { prompt_tokens: scriptedUsage.inputTokens, completion_tokens: scriptedUsage.outputTokens, total_tokens: scriptedUsage.inputTokens + scriptedUsage.outputTokens };
  if (body.stream !== true) {
    const message = { role: "assistant", content: reply.text ?? null, ...(toolCall === undefined ? {} : { tool_calls: [toolCall] }) };
    writeJSON(response, 200, { id: completionID, object: "chat.completion", created, model, choices: [{ index: 0, message, finish_reason: finishReason }], usage });
    return;
  }
  startEventStream(response);
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
    writeEvent(response, { id: completionID, object: "chat.completion.chunk", created, model, choices: [{ index: 0, delta, finish_reason: finish }] });
  chunk({ role: "assistant", content: "" });
  for (const piece of chunks(reply.text ?? "")) chunk({ content: piece });
  if (toolCall !== undefined) {
    chunk({ tool_calls: [{ index: 0, id: toolCall.id, type: "function", function: { name: toolCall.function.name, arguments: "" } }] });
    for (const piece of chunks(toolCall.function.arguments)) chunk({ tool_calls: [{ index: 0, function: { arguments: piece } }] });
  }
  chunk({}, finishReason);
  if (body.stream_options?.include_usage === true) {
    writeEvent(response, { id: completionID, object: "chat.completion.chunk", created, model, choices: [], usage });
  }
  writeEvent(response, "[DONE]");
  response.end();
}
