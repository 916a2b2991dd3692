import type { Template } from "aws-cdk-lib/assertions";

/** One IAM statement as CloudFormation holds it. */
export interface Statement {
  Effect: string;
  Action?: string | string[];
  NotAction?: unknown;
  Resource?: unknown;
  NotResource?: unknown;
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

/**
 * Every policy statement anywhere in a template: identity policies, a role's inline `Policies`, managed
 * policies, trust policies and resource policies alike, found by walking all properties for policy documents.
 */
export function allStatements(template: Template): { resource: string; statement: Statement }[] {
  const found: { resource: string; statement: Statement }[] = [];
  const walk = (resource: string, value: unknown): void => {
    if (Array.isArray(value)) for (const item of value) walk(resource, item);
    else if (value !== null && typeof value === "object") {
      const record = value as Record<string, unknown>;
      if (Array.isArray(record.Statement)) for (const statement of record.Statement as Statement[]) found.push({ resource, statement });
      for (const [key, inner] of Object.entries(record)) if (key !== "Statement") walk(resource, inner);
    }
  };
  for (const [name, resource] of Object.entries(template.toJSON().Resources as Record<string, { Properties?: unknown }>)) walk(name, resource.Properties);
  return found;
}

export const actionsOf = (statement: Statement): string[] => (statement.Action === undefined ? [] : Array.isArray(statement.Action) ? statement.Action : [statement.Action]);
export const resourcesOf = (statement: Statement): unknown[] => (statement.Resource === undefined ? [] : Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource]);
