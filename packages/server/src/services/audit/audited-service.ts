import type { Principal } from "../auth-service.js";
import type { AuditLog } from "./audit-log.js";

/** Where a call acted and which of its arguments the digest covers. */
export interface AuditTarget {
  sandboxID?: string | null | undefined;
  sessionID?: string | null | undefined;
  args: unknown;
}

type Rest<F> = F extends (principal: Principal, ...rest: infer A) => unknown ? A : never;

/** For each method to audit: how to read its target from the arguments after the principal. */
export type AuditSpec<S> = { [K in keyof S]?: (...rest: Rest<S[K]>) => AuditTarget };

/**
 * Wraps a service's methods (each taking the caller's principal first) so every call is recorded once,
 * whichever route made it: the API files call the wrapped service and never audit on their own.
 */
export function auditedService<S extends object>(service: S, prefix: string, audit: AuditLog, spec: AuditSpec<S>): S {
  const wrapped = Object.create(service) as S;
  for (const name of Object.keys(spec) as (keyof S & string)[]) {
    const method = service[name] as unknown as (principal: Principal, ...rest: unknown[]) => Promise<unknown>;
    const target = spec[name] as unknown as (...rest: unknown[]) => AuditTarget;
    (wrapped as Record<string, unknown>)[name] = async (principal: Principal, ...rest: unknown[]) => {
      const started = performance.now();
      const { sandboxID, sessionID, args } = target(...rest);
      const entry = { workspaceID: principal.workspaceID, actor: principal.userID, tool: `${prefix}.${name}`, sandboxID, sessionID, args };
      try {
        const result = await method.call(service, principal, ...rest);
        await audit.record({ ...entry, durationMs: performance.now() - started });
        return result;
      } catch (error) {
        await audit.record({ ...entry, error, durationMs: performance.now() - started });
        throw error;
      }
    };
  }
  return wrapped;
}
