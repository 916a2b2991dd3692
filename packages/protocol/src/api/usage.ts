import { z } from "zod";
import { runtimeNames } from "./sandboxes.js";

/** What usage can be grouped by; rows carry only the fields grouped on. */
export const usageGroupKeys = ["workspace", "user", "runtime", "day"] as const;
export type UsageGroupKey = (typeof usageGroupKeys)[number];

const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "a day, YYYY-MM-DD");

export const usageQuerySchema = z.strictObject({
  /** First day counted (UTC), inclusive; 30 days before `to` when absent. */
  from: day.optional(),
  /** Last day counted (UTC), inclusive; today when absent. */
  to: day.optional(),
  /** Comma-separated keys of `usageGroupKeys`; all of them when absent. */
  group_by: z
    .string()
    .max(64)
    .transform((value) => value.split(",").map((key) => key.trim()).filter(Boolean))
    .pipe(z.array(z.enum(usageGroupKeys)).min(1))
    .optional(),
  /** Installation admins only: one workspace instead of all. */
  workspace_id: z.string().min(1).max(64).optional(),
});
export type UsageQuery = z.input<typeof usageQuerySchema>;

export const usageRowSchema = z.object({
  workspace_id: z.string().optional(),
  /** Who created the sandbox; `system` for machines no user asked for. */
  user_id: z.string().optional(),
  runtime: z.enum(runtimeNames).optional(),
  day: z.string().optional(),
  /** Seconds of machine time billed. */
  machine_seconds: z.number(),
  cost_usd: z.number(),
});
export type UsageRow = z.infer<typeof usageRowSchema>;

export const usageReportSchema = z.object({
  from: z.string(),
  to: z.string(),
  group_by: z.array(z.enum(usageGroupKeys)),
  rows: z.array(usageRowSchema),
  total_usd: z.number(),
});
export type UsageReport = z.infer<typeof usageReportSchema>;

/** The caller's workspace against `[budget] max_hourly_usd`, for the clock hour now. */
export const budgetStatusSchema = z.object({
  workspace_id: z.string(),
  /** `null`: no cap is set. */
  cap_usd: z.number().nullable(),
  /** What the workspace's sandboxes cost in this UTC clock hour, open intervals included. */
  spent_usd: z.number(),
  /** When this hour's spending starts again from zero. */
  resets_at: z.string(),
});
export type BudgetStatus = z.infer<typeof budgetStatusSchema>;
