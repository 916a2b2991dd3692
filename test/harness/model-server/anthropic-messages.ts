import type { ServerResponse } from "node:http";
import { scriptedUsage, type ModelReply, type ModelScript, type OfferedTool } from "./scripts.js";
import { chunks, startEventStream, writeEvent, writeJSON } from "./sse.js";

interface AnthropicContentBlock {
  type?: string;
  text?: string;
  content?: unknown;
}

interface AnthropicRequest {
  model?: string;
  stream?: boolean;
  system?: string | AnthropicContentBlock[];
  messages?: { role?: string; content?: string | AnthropicContentBlock[] }[];
  tools?: { name?: string; input_schema?: OfferedTool["parameters"] }[];
}

let nextID = 1;

/** `POST /v1/messages`: the script's reply as one message, streamed as SSE when `stream` is set. */
export function answerAnthropicMessages(
  body: AnthropicRequest,
  headers: Record<string, string>,
  script: ModelScript,
  response: ServerResponse,
): void {
  const model = body.model ?? "scripted-model";
  let toolResults = 0;
  const texts: string[] = [];
  if (typeof body.system === "string") texts.push(body.system);
  else for (const block of body.system ?? []) texts.push(block.text ?? "");
  for (const message of body.messages ?? []) {
    if (typeof message.content === "string") texts.push(message.content);
    else
      for (const block of message.content ?? []) {
        if (block.type === "tool_result") toolResults += 1;
        if (typeof block.text === "string") texts.push(block.text);
      }
  }
  const tools: OfferedTool[] = (body.tools ?? [])
    .filter((tool) => typeof tool.name === "string")
    .map((tool) => ({ name: tool.name!, kind: "function", parameters: tool.input_schema }));
  const reply = script({ api: "anthropic-messages", model, tools, toolResults, text: texts.join("\n"), headers });
  if (reply.error !== undefined) {
    writeJSON(response, reply.error.status, { type: "error", error: { type: reply.error.status >= 500 ? "api_error" : "invalid_request_error", message: reply.error.message } });
    return;
  }
  const messageID = `msg_scripted_${nextID++}`;
  const content = replyBlocks(reply);
  const stopReason = reply.toolCall === undefined ? "end_turn" : "tool_use";
  const usage = { input_tokens: scriptedUsage.inputTokens, output_tokens: scriptedUsage.outputTokens, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
  if (body.stream !== true) {
    writeJSON(response, 200, { id: messageID, type: "message", role: "assistant", model, content, stop_reason: stopReason, stop_sequence: null, usage });
    return;
  }
  startEventStream(response);
  const send = (data: { type: string } & Record<string, unknown>) => writeEvent(response, data, data.type);
  send({
    type: "message_start",
    message: { id: messageID, type: "message", role: "assistant", model, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } },
  });
  content.forEach((block, index) => {
    if (block.type === "text") {
      send({ type: "content_block_start", index, content_block: { type: "text", text: "" } });
      for (const piece of chunks(block.text)) send({ type: "content_block_delta", index, delta: { type: "text_delta", text: piece } });
    } else {
      send({ type: "content_block_start", index, content_block: { type: "tool_use", id: block.id, name: block.name, input: {} } });
      for (const piece of chunks(JSON.stringify(block.input))) send({ type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: piece } });
    }
    send({ type: "content_block_stop", index });
  });
  send({ type: "message_delta", delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: scriptedUsage.outputTokens } });
  send({ type: "message_stop" });
  response.end();
}

/** `POST /v1/messages/count_tokens`. */
export function answerAnthropicCountTokens(response: ServerResponse): void {
  writeJSON(response, 200, { input_tokens: scriptedUsage.inputTokens });
}

type ReplyBlock = { type: "text"; text: string } | { type: "tool_use"; id: string; name: string; input: unknown };

function replyBlocks(reply: ModelReply): ReplyBlock[] {
  const blocks: ReplyBlock[] = [];
  if (reply.text !== undefined) blocks.push({ type: "text", text: reply.text });
  if (reply.toolCall !== undefined) {
    const input = typeof reply.toolCall.input === "string" ? { input: reply.toolCall.input } : reply.toolCall.input;
    blocks.push({ type: "tool_use", id: `toolu_scripted_${nextID++}`, name: reply.toolCall.name, input });
  }
  return blocks;
}
