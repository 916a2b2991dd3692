import type { CreateSessionRequest, RuntimeName } from "@ciab/protocol";

// The protocol's lists are values beside its zod schemas: importing them would bundle zod into the page.
// Typed against the protocol, so a renamed choice fails the typecheck.
export const runtimeChoices = ["local", "docker", "ec2", "fargate"] as const satisfies readonly RuntimeName[];

export const providerChoices = ["claude-code", "codex", "pi", "gemini-cli", "opencode", "shell"] as const satisfies readonly CreateSessionRequest["provider"][];
