import { CiabError } from "../protocol.js";

/**
 * Hand-written checks of request bodies. agentd is bundled into one small file that must start fast, so
 * it does not carry a schema library; the control plane validates the public API with zod before this.
 */
function invalid(message: string): CiabError {
  return new CiabError("invalid_request", message);
}

export function requireString(body: Record<string, unknown>, key: string): string {
  const value = body[key];
  if (typeof value !== "string") throw invalid(`${key} must be a string`);
  return value;
}

export function optionalString(body: Record<string, unknown>, key: string): string | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw invalid(`${key} must be a string`);
  return value;
}

export function optionalNumber(body: Record<string, unknown>, key: string): number | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw invalid(`${key} must be a non-negative number`);
  }
  return value;
}

export function optionalBoolean(body: Record<string, unknown>, key: string): boolean | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "boolean") throw invalid(`${key} must be a boolean`);
  return value;
}

export function requireCommand(body: Record<string, unknown>): string[] {
  const value = body.command;
  if (!Array.isArray(value) || value.length === 0 || !value.every((part) => typeof part === "string")) {
    throw invalid("command must be a non-empty array of strings");
  }
  if (value[0] === "") throw invalid("command[0] must not be empty");
  return value as string[];
}

export function optionalEnv(body: Record<string, unknown>): Record<string, string> | undefined {
  const value = body.env;
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object" || Array.isArray(value)) throw invalid("env must be an object");
  for (const entry of Object.values(value)) {
    if (typeof entry !== "string") throw invalid("env values must be strings");
  }
  return value as Record<string, string>;
}
