import type { Artifact, Snapshot } from "@ciab/protocol";
import { formatBytes } from "./bytes.js";
import { formatFields, formatTable } from "./table.js";

function scanText(artifact: Artifact): string {
  return artifact.scan.status === "infected" ? `infected (${artifact.scan.signature ?? "?"})` : artifact.scan.status;
}

export function formatArtifactTable(artifacts: readonly Artifact[]): string {
  if (artifacts.length === 0) return "no artifacts";
  return formatTable(
    ["ID", "NAME", "SIZE", "SCAN", "SESSION", "CREATED"],
    artifacts.map((artifact) => [artifact.id, artifact.name, formatBytes(artifact.size), scanText(artifact), artifact.session_id ?? "-", artifact.created_at]),
  );
}

export function formatArtifact(artifact: Artifact): string {
  return formatFields([
    ["id", artifact.id],
    ["path", artifact.path],
    ["mime", artifact.mime],
    ["size", `${formatBytes(artifact.size)} (${artifact.size} bytes)`],
    ["sha256", artifact.sha256],
    ["scan", scanText(artifact)],
    ["sandbox", artifact.sandbox_id],
    ["session", artifact.session_id ?? "-"],
    ["description", artifact.description ?? "-"],
    ["created", artifact.created_at],
    ["download", artifact.download_url ?? "-"],
  ]);
}

export function formatSnapshotTable(snapshots: readonly Snapshot[]): string {
  if (snapshots.length === 0) return "no snapshots";
  return formatTable(
    ["ID", "LABEL", "SIZE", "SANDBOX", "CREATED"],
    snapshots.map((snapshot) => [snapshot.id, snapshot.label ?? "-", formatBytes(snapshot.size), snapshot.sandbox_id, snapshot.created_at]),
  );
}
