import path from "node:path";
import type { ToolRule } from "../../config/config-schema.js";

export interface PolicyDecision {
  action: ToolRule["action"];
  /** Says which rule decided, for the approval an admin reads. */
  reason: string;
}

/** The work dir every relative path is taken against, as agentd takes it. */
const workDirectory = "/workspace";

function within(resolved: string, directory: string): boolean {
  const base = path.posix.resolve(directory);
  return base === "/" || resolved === base || resolved.startsWith(base + "/");
}

/**
 * The path a call acts on, resolved the way agentd resolves it (relative to /workspace, `..` folded), so
 * `/workspace/../etc/x` is judged as `/etc/x`. Symlinks are not resolved here: agentd refuses any that lead
 * out of the work dir, and a write the policy lets through inside /workspace goes through agentd.
 */
export function callPath(args: Record<string, unknown>): string {
  const raw = typeof args.path === "string" ? args.path : typeof args.cwd === "string" ? args.cwd : workDirectory;
  return path.posix.resolve(workDirectory, raw);
}

export function insideWorkDirectory(resolved: string): boolean {
  return within(resolved, workDirectory);
}

/** `[policy] tool_rules`: the first rule matching a call decides; none matching allows. */
export function createToolPolicy(rules: readonly ToolRule[]) {
  return {
    decide(tool: string, args: Record<string, unknown>): PolicyDecision {
      const resolved = callPath(args);
      for (const [index, rule] of rules.entries()) {
        if (rule.tool !== "*" && rule.tool !== tool) continue;
        if (rule.outside !== undefined && within(resolved, rule.outside)) continue;
        if (rule.inside !== undefined && !within(resolved, rule.inside)) continue;
        const where = rule.outside !== undefined ? ` outside ${rule.outside}` : rule.inside !== undefined ? ` inside ${rule.inside}` : "";
        return { action: rule.action, reason: `[policy] tool_rules[${index}]: ${rule.action} for ${rule.tool}${where} (${resolved})` };
      }
      return { action: "allow", reason: "no rule matched" };
    },
  };
}

export type ToolPolicy = ReturnType<typeof createToolPolicy>;
