import { ArtifactTable } from "./artifact-table.js";

export function ArtifactsPage() {
  return (
    <section>
      <h1>Artifacts</h1>
      <p className="hint">Files sandboxes published, in this workspace. Download links are signed and expire; reload the page for fresh ones.</p>
      <ArtifactTable filter={{}} />
    </section>
  );
}
