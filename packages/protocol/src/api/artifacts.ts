import { z } from "zod";

/** Public API shapes for artifacts and snapshots (docs/decisions/0017-artifacts.md). */
export const artifactIDSchema = z.string().regex(/^art_[0-9a-z]{26}$/, "an artifact id (art_…)");
export const snapshotIDSchema = z.string().regex(/^snap_[0-9a-z]{26}$/, "a snapshot id (snap_…)");

const mimeSchema = z
  .string()
  .max(255)
  .regex(/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+(;[ -~]*)?$/i, "a media type such as text/plain");

export const publishArtifactSchema = z
  .strictObject({
    session_id: z.string().min(1).max(64).optional(),
    sandbox_id: z.string().min(1).max(64).optional(),
    /** A path in the sandbox's work dir; links are followed only while they stay inside it. */
    path: z.string().min(1).max(4096),
    mime: mimeSchema.optional(),
    description: z.string().max(4096).optional(),
  })
  .refine((value) => (value.session_id === undefined) !== (value.sandbox_id === undefined), {
    message: "give exactly one of session_id and sandbox_id",
    path: ["session_id"],
  });
export type PublishArtifactRequest = z.infer<typeof publishArtifactSchema>;

export const scanVerdictSchema = z.object({
  /** `skipped`: scanning is off. */
  status: z.enum(["clean", "infected", "skipped"]),
  /** The signature name clamd answered, for infected files. */
  signature: z.string().optional(),
});
export type ScanVerdict = z.infer<typeof scanVerdictSchema>;

export const artifactSchema = z.object({
  id: z.string(),
  path: z.string(),
  name: z.string(),
  mime: z.string(),
  description: z.string().nullable(),
  size: z.number().int(),
  sha256: z.string(),
  session_id: z.string().nullable(),
  sandbox_id: z.string(),
  user_id: z.string(),
  scan: scanVerdictSchema,
  created_at: z.string(),
  /** A URL that downloads the bytes with no other credential until it expires (refused when infected). */
  download_url: z.string().optional(),
  download_url_expires_at: z.string().optional(),
});
export type Artifact = z.infer<typeof artifactSchema>;

export const artifactListSchema = z.object({
  artifacts: z.array(artifactSchema),
  /** Pass as `after` for the next page; null on the last page. */
  next: z.string().nullable(),
});

export const listQuerySchema = z.strictObject({
  session_id: z.string().min(1).max(64).optional(),
  sandbox_id: z.string().min(1).max(64).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  after: z.string().min(1).max(64).optional(),
});

export const createSnapshotSchema = z.strictObject({
  label: z.string().min(1).max(256).optional(),
});

export const snapshotSchema = z.object({
  id: z.string(),
  label: z.string().nullable(),
  /** Bytes of the gzip tarball. */
  size: z.number().int(),
  sha256: z.string(),
  session_id: z.string().nullable(),
  sandbox_id: z.string(),
  user_id: z.string(),
  created_at: z.string(),
  /** The tarball through a signed URL, as for artifacts (it counts against the download limit too). */
  download_url: z.string().optional(),
});
export type Snapshot = z.infer<typeof snapshotSchema>;

export const snapshotListSchema = z.object({ snapshots: z.array(snapshotSchema), next: z.string().nullable() });
