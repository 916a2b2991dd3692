import { z } from "zod";
import { runtimeNames } from "./sandboxes.js";

export const volumeIDSchema = z.string().regex(/^vol_[0-9a-z]{26}$/, "a volume id (vol_…)");

/** A user's persistent work dir: a host dir or loop image (local), a Docker volume, an EBS volume (ec2). */
export const volumeSchema = z.object({
  id: z.string(),
  runtime: z.enum(runtimeNames),
  user_id: z.string(),
  /** `in_use` while a live sandbox has it mounted (at most one does). */
  state: z.enum(["available", "in_use"]),
  /** The live sandbox that has it mounted, if any. */
  sandbox_id: z.string().nullable(),
  /** Its size where the runtime sized it (ec2); null where a config quota or the host's disk bounds it. */
  size_gib: z.number().nullable(),
  created_at: z.string(),
  last_used_at: z.string().nullable(),
});
export type Volume = z.infer<typeof volumeSchema>;

export const volumeListSchema = z.object({ volumes: z.array(volumeSchema) });
