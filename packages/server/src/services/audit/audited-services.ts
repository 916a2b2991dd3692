import type { ArtifactService } from "../artifact-service.js";
import type { ExecService } from "../exec-service.js";
import type { FileService } from "../file-service.js";
import type { ShellService } from "../shell-service.js";
import type { SnapshotService } from "../snapshot-service.js";
import type { AuditLog } from "./audit-log.js";
import { auditedService } from "./audited-service.js";

export interface AuditableServices {
  exec: ExecService;
  files: FileService;
  shell: ShellService;
  artifacts: ArtifactService;
  snapshots: SnapshotService;
}

/**
 * The services every route and the gateway call, wrapped once for the audit trail: commands, file reads and
 * writes, publishes and snapshots. Listings of processes and artifacts are reads of our own records, not
 * tool calls, and are not recorded.
 */
export function auditedServices(services: AuditableServices, audit: AuditLog): AuditableServices {
  const onSandbox = (sandboxID: string, args: unknown) => ({ sandboxID, args });
  return {
    exec: auditedService(services.exec, "exec", audit, {
      run: (id, body) => onSandbox(id, body),
      stream: (id, body) => onSandbox(id, body),
      startProcess: (id, body) => onSandbox(id, body),
      signalProcess: (id, pid, signal) => onSandbox(id, { pid, signal }),
      writeStdin: (id, pid, data) => onSandbox(id, { pid, data }),
    }),
    files: auditedService(services.files, "files", audit, {
      list: (id, path, depth) => onSandbox(id, { path, depth }),
      stat: (id, path) => onSandbox(id, { path }),
      read: (id, path, encoding) => onSandbox(id, { path, encoding }),
      download: (id, path) => onSandbox(id, { path }),
      write: (id, path, body, mode) => onSandbox(id, { path, mode, body: Buffer.isBuffer(body) ? body : "[stream]" }),
      mkdir: (id, request) => onSandbox(id, request),
      rename: (id, from, to) => onSandbox(id, { from, to }),
      remove: (id, path, recursive) => onSandbox(id, { path, recursive }),
    }),
    shell: auditedService(services.shell, "shell", audit, {
      start: (id, body) => onSandbox(id, body),
    }),
    artifacts: auditedService(services.artifacts, "artifacts", audit, {
      publish: (request) => ({ sandboxID: request.sandbox_id, sessionID: request.session_id, args: request }),
      delete: (id) => ({ args: { id } }),
    }),
    snapshots: auditedService(services.snapshots, "snapshots", audit, {
      create: (source, label) => ({ sandboxID: source.sandboxID, sessionID: source.sessionID, args: { ...source, label } }),
      delete: (id) => ({ args: { id } }),
    }),
  };
}
