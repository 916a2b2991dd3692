import { z } from "zod";
import { plainString } from "./strings.js";

/** Tokens, users and workspaces (docs/decisions/0009 and 0027). */
export const roleSchema = z.enum(["admin", "member"]);
export type Role = z.infer<typeof roleSchema>;

const displayName = plainString().min(1).max(128);

export const createTokenSchema = z.strictObject({
  name: displayName,
  /** `member` narrows an admin's token; a token never carries more than the caller's role. */
  role: roleSchema.optional(),
  /** The token stops working this many seconds from now; it never expires without it. */
  expires_in_secs: z.number().int().min(1).max(10 * 366 * 24 * 3600).optional(),
});
export type CreateTokenRequest = z.infer<typeof createTokenSchema>;

export const tokenSchema = z.object({
  id: z.string(),
  name: z.string(),
  user_id: z.string(),
  /** What the token may do now: `member` when the token or its user is one. */
  role: roleSchema,
  created_at: z.string(),
  expires_at: z.string().nullable(),
  /** Lags real use by up to a few seconds. */
  last_used_at: z.string().nullable(),
  revoked_at: z.string().nullable(),
});
export type Token = z.infer<typeof tokenSchema>;

/** The answer to creating a token: its text, shown this once (only its hash is stored). */
export const createdTokenSchema = tokenSchema.extend({ token: z.string() });
export type CreatedToken = z.infer<typeof createdTokenSchema>;

export const tokenListSchema = z.object({ tokens: z.array(tokenSchema) });

export const userSchema = z.object({
  id: z.string(),
  name: z.string(),
  role: roleSchema,
  installation_admin: z.boolean(),
  created_at: z.string(),
});
export type User = z.infer<typeof userSchema>;

export const userListSchema = z.object({ users: z.array(userSchema) });
export const setRoleSchema = z.strictObject({ role: roleSchema });

export const workspaceSchema = z.object({ id: z.string(), name: z.string(), created_at: z.string() });
export type Workspace = z.infer<typeof workspaceSchema>;
export const workspaceListSchema = z.object({ workspaces: z.array(workspaceSchema) });

/** Who the calling token belongs to. */
export const whoAmISchema = z.object({
  user_id: z.string(),
  user_name: z.string(),
  workspace_id: z.string(),
  workspace_name: z.string(),
  role: roleSchema,
  installation_admin: z.boolean(),
  token_id: z.string(),
});
export type WhoAmI = z.infer<typeof whoAmISchema>;
