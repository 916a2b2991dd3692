import type { z } from "zod";
import type { ToolArguments, ToolName } from "@ciab/protocol";
import type { ArtifactService } from "../artifact-service.js";
import type { Principal } from "../auth-service.js";
import type { ExecService } from "../exec-service.js";
import type { FileService } from "../file-service.js";
import type { ShellService } from "../shell-service.js";

/** The services the tools are a thin layer over (unaudited: the tool service records each call once). */
export interface ToolServices {
  exec: ExecService;
  files: FileService;
  shell: ShellService;
  artifacts: ArtifactService;
}

/** One call of a tool, already placed: the session is the caller's and its sandbox is known. */
export interface ToolContext {
  principal: Principal;
  sessionID: string;
  sandboxID: string;
  /** The origin the caller used, for URLs in results. */
  origin: string;
  signal?: AbortSignal | undefined;
  services: ToolServices;
}

/** A sandbox tool by name: its schema (shared by the REST route and MCP), what it does, and its summary. */
export interface ToolDefinition<N extends ToolName = ToolName> {
  name: N;
  description: string;
  schema: z.ZodType<ToolArguments<N>>;
  run(context: ToolContext, args: ToolArguments<N>): Promise<unknown>;
  /** What an admin reads when the call waits for approval; never a file's contents. */
  summary(args: ToolArguments<N>): Record<string, unknown>;
}
