import type { ServerResponse } from "node:http";
import { scriptedUsage, type ModelScript, type OfferedTool } from "./scripts.js";
import { chunks, startEventStream, writeEvent, writeJSON } from "./sse.js";

interface ResponsesRequest {
  model?: string;
  stream?: boolean;
  instructions?: string;
  input?: string | { type?: string; role?: string; content?: string | { type?: string; text?: string }[] }[];
  tools?: { type?: string; name?: string; parameters?: OfferedTool["parameters"] }[];
}

const toolResultTypes = new Set(["function_call_output", "custom_tool_call_output", "local_shell_call_output"]);

let nextID = 1;

/** `POST /v1/responses`: a message item and/or a function (or custom) call item, streamed as typed events. */
export function answerOpenAIResponses(body: ResponsesRequest, headers: Record<string, string>, script: ModelScript, response: ServerResponse): void {
  const model = body.model ?? "scripted-model";
  const texts: string[] = body.instructions === undefined ? [] : [body.instructions];
  let toolResults = 0;
  for (const item of typeof body.input === "string" ? [{ content: body.input }] : (body.input ?? [])) {
    if (item.type !== undefined && toolResultTypes.has(item.type)) toolResults += 1;
    if (typeof item.content === "string") texts.push(item.content);
    else for (const part of item.content ?? []) if (typeof part.text === "string") texts.push(part.text);
  }
  const tools: OfferedTool[] = (body.tools ?? [])
    .filter((tool) => typeof tool.name === "string" && (tool.type === "function" || tool.type === "custom"))
    .map((tool) => ({ name: tool.name!, kind: tool.type === "custom" ? "custom" : "function", parameters: tool.parameters }));
  const reply = script({ api: "openai-responses", model, tools, toolResults, text: texts.join("\n"), headers });

  if (reply.error !== undefined) {
    writeJSON(response, reply.error.status, { error: { message: reply.error.message, type: reply.error.status >= 500 ? "server_error" : "invalid_request_error", code: null } });
    return;
  }
  const responseID = `resp_scripted_${nextID++}`;
  const output: Record<string, unknown>[] = [];
  if (reply.text !== undefined) {
    output.push({
      id: `msg_scripted_${nextID++}`,
      type: "message",
      role: "assistant",
      status: "completed",
      content: [{ type: "output_text", text: reply.text, annotations: [] }],
    });
  }
  if (reply.toolCall !== undefined) {
    const callID = `call_scripted_${nextID++}`;
    const itemID = `fc_scripted_${nextID++}`;
    output.push(
      typeof reply.toolCall.input === "string"
        ? { id: itemID, type: "custom_tool_call", status: "completed", call_id: callID, name: reply.toolCall.name, input: reply.toolCall.input }
        : { id: itemID, type: "function_call", status: "completed", call_id: callID, name: reply.toolCall.name, arguments: JSON.stringify(reply.toolCall.input) },
    );
  }
  const usage = {
    input_tokens: scriptedUsage.inputTokens,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: scriptedUsage.outputTokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: scriptedUsage.inputTokens + scriptedUsage.outputTokens,
  };
  const created = Math.floor(Date.now() / 1000);
  const base = { id: responseID, object: "response", created_at: created, model, tools: body.tools ?? [], parallel_tool_calls: false };
  if (body.stream !== true) {
    writeJSON(response, 200, { ...base, status: "completed", output, usage });
    return;
  }
  startEventStream(response);
  let sequence = 0;
  const send = (data: { type: string } & Record<string, unknown>) => writeEvent(response, { ...data, sequence_number: sequence++ }, data.type);
  send({ type: "response.created", response: { ...base, status: "in_progress", output: [] } });
  send({ type: "response.in_progress", response: { ...base, status: "in_progress", output: [] } });
  output.forEach((item, outputIndex) => sendItem(send, item, outputIndex));
  send({ type: "response.completed", response: { ...base, status: "completed", output, usage } });
  response.end();
}

type Send = (data: { type: string } & Record<string, unknown>) => void;

function sendItem(send: Send, item: Record<string, unknown>, outputIndex: number): void {
  const itemID = item.id as string;
  if (item.type === "message") {
    const text = ((item.content as { text: string }[])[0] ?? { text: "" }).text;
    send({ type: "response.output_item.added", output_index: outputIndex, item: { ...item, status: "in_progress", content: [] } });
    const part = { type: "output_text", text: "", annotations: [] };
    send({ type: "response.content_part.added", item_id: itemID, output_index: outputIndex, content_index: 0, part });
    for (const delta of chunks(text)) send({ type: "response.output_text.delta", item_id: itemID, output_index: outputIndex, content_index: 0, delta });
    send({ type: "response.output_text.done", item_id: itemID, output_index: outputIndex, content_index: 0, text });
    send({ type: "response.content_part.done", item_id: itemID, output_index: outputIndex, content_index: 0, part: { ...part, text } });
  } else if (item.type === "function_call") {
    send({ type: "response.output_item.added", output_index: outputIndex, item: { ...item, status: "in_progress", arguments: "" } });
    const argumentsText = item.arguments as string;
    for (const delta of chunks(argumentsText)) send({ type: "response.function_call_arguments.delta", item_id: itemID, output_index: outputIndex, delta });
    send({ type: "response.function_call_arguments.done", item_id: itemID, output_index: outputIndex, arguments: argumentsText });
  } else {
    send({ type: "response.output_item.added", output_index: outputIndex, item: { ...item, status: "in_progress", input: "" } });
    const input = item.input as string;
    for (const delta of chunks(input)) send({ type: "response.custom_tool_call_input.delta", item_id: itemID, output_index: outputIndex, delta });
    send({ type: "response.custom_tool_call_input.done", item_id: itemID, output_index: outputIndex, input });
  }
  send({ type: "response.output_item.done", output_index: outputIndex, item });
}
