import path from "node:path";

/** A tool the request offers, whatever the API's own shape. */
export interface OfferedTool {
  name: string;
  /** `custom`: an OpenAI Responses freeform tool whose input is a string (codex's apply_patch). */
  kind: "function" | "custom";
  parameters: JSONSchemaObject | undefined;
}

export interface JSONSchemaObject {
  properties?: Record<string, { type?: string | string[] } | undefined>;
  required?: string[];
}

/** One model call, reduced to what a script decides from. */
export interface ModelTurn {
  api: "anthropic-messages" | "openai-chat" | "openai-responses" | "google-generate-content";
  model: string;
  tools: OfferedTool[];
  /** How many tool results the conversation already holds. */
  toolResults: number;
  /** Every piece of text in the request (system prompt, messages), to find the working directory in. */
  text: string;
  headers: Record<string, string>;
}

/** What the model answers: some text, a tool call, or both (text first); or an API error. */
export interface ModelReply {
  text?: string;
  toolCall?: { name: string; input: Record<string, unknown> | string };
  /** Answer with this HTTP status and the API's error body instead. */
  error?: { status: number; message: string };
}

export type ModelScript = (turn: ModelTurn) => ModelReply;

/** Fixed usage reported for every call, so tests can assert totals. */
export const scriptedUsage = { inputTokens: 120, outputTokens: 30 } as const;

export const finalText = "done: hello.txt written";

/**
 * The default script: no tool result yet → create `hello.txt` containing `hello from <agent>` with the
 * agent's own write or shell tool; a tool result present → `done: hello.txt written`. Calls that offer no
 * tool (titles, quota probes) get plain text.
 */
export function helloFileScript(options: { agent?: string; fileName?: string; prefer?: "write" | "shell" } = {}): ModelScript {
  const fileName = options.fileName ?? "hello.txt";
  return (turn) => {
    if (turn.tools.length === 0 || turn.toolResults > 0) return { text: finalText };
    const agent = options.agent ?? agentFromHeaders(turn.headers);
    const toolCall = writeFileCall(turn, fileName, `hello from ${agent}`, options.prefer ?? "write");
    if (toolCall === undefined) return { text: `no usable tool among: ${turn.tools.map((tool) => tool.name).join(", ")}` };
    return { text: `I will create ${fileName}.`, toolCall };
  };
}

/** Always answers the same text, never a tool call. */
export function textScript(text: string): ModelScript {
  return () => ({ text });
}

/** Every call fails with this status (400: the agents give up at once; 5xx: they retry). */
export function errorScript(status = 400, message = "scripted failure"): ModelScript {
  return () => ({ error: { status, message } });
}

/** Guesses the agent from its User-Agent, for the file content. */
export function agentFromHeaders(headers: Record<string, string>): string {
  const userAgent = headers["user-agent"] ?? "";
  if (/claude-cli|claude-code/i.test(userAgent)) return "claude-code";
  if (/codex/i.test(userAgent)) return "codex";
  if (/gemini/i.test(userAgent)) return "gemini-cli";
  if (/opencode/i.test(userAgent)) return "opencode";
  // pi calls the plain SDKs, so its User-Agent is theirs.
  if (/^(Anthropic|OpenAI)\/JS/.test(userAgent)) return "pi";
  return "agent";
}

const writeToolNames = ["write", "write_file", "writefile", "create_file"];
const shellToolNames = ["bash", "shell", "shell_command", "exec_command", "run_shell_command"];

function writeFileCall(turn: ModelTurn, fileName: string, content: string, prefer: "write" | "shell"): ModelReply["toolCall"] {
  const workDirectory = findWorkDirectory(turn.text);
  const filePath = workDirectory === undefined ? fileName : path.posix.join(workDirectory, fileName);
  const writeTool = turn.tools.find((tool) => writeToolNames.includes(tool.name.toLowerCase()) && tool.kind === "function");
  const hasShell = turn.tools.some((tool) => shellToolNames.includes(tool.name.toLowerCase()));
  if (writeTool !== undefined && !(prefer === "shell" && hasShell)) {
    const properties = writeTool.parameters?.properties ?? {};
    const pathKey = ["file_path", "path", "filePath", "absolute_path"].find((key) => key in properties) ?? "path";
    const contentKey = ["content", "contents", "text"].find((key) => key in properties) ?? "content";
    return { name: writeTool.name, input: { [pathKey]: filePath, [contentKey]: content } };
  }
  const shellTool = turn.tools.find((tool) => shellToolNames.includes(tool.name.toLowerCase()) && tool.kind === "function");
  if (shellTool !== undefined) {
    const command = `printf '%s' '${content}' > '${filePath}'`;
    const properties = shellTool.parameters?.properties ?? {};
    const commandKey = ["command", "cmd"].find((key) => key in properties) ?? "command";
    const commandType = properties[commandKey]?.type;
    const isArray = commandType === "array" || (Array.isArray(commandType) && commandType.includes("array"));
    const input: Record<string, unknown> = { [commandKey]: isArray ? ["bash", "-lc", command] : command };
    if ("workdir" in properties && workDirectory !== undefined) input.workdir = workDirectory;
    return { name: shellTool.name, input };
  }
  const patchTool = turn.tools.find((tool) => tool.name === "apply_patch");
  if (patchTool !== undefined) {
    const patch = `*** Begin Patch\n*** Add File: ${filePath}\n+${content}\n*** End Patch\n`;
    return { name: patchTool.name, input: patchTool.kind === "custom" ? patch : { input: patch } };
  }
  return undefined;
}

/** The agents state their working directory in the system prompt or an environment block. */
export function findWorkDirectory(text: string): string | undefined {
  const patterns = [
    /<cwd>\s*([^<\s]+)\s*<\/cwd>/,
    /[Ww]orking directory:\s*(\/[^\s`'"]+)/,
    /[Cc]urrent working directory[^/\n]*(\/[^\s`'"]+)/,
  ];
  for (const pattern of patterns) {
    const match = pattern.exec(text);
    if (match?.[1] !== undefined) return match[1].replace(/[.,;:]+$/, "");
  }
  return undefined;
}
