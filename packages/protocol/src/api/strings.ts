import { z } from "zod";

/**
 * A string bound for argv, the environment or a path: the kernel ends those at a NUL byte, so one inside
 * would be refused deep in a spawn (or silently cut); refused here, it is a typed `invalid_request`.
 */
export function plainString(): z.ZodString {
  return z.string().refine((value) => !value.includes("\0"), "must not contain NUL bytes");
}

/**
 * A file mode: a number (420), or a string of octal digits as `chmod` takes it ("644", "0644", "0o644").
 * A bare number stays a number: JSON has no octal literals.
 */
export const fileModeSchema = z.union([
  z.number().int().min(0).max(0o7777),
  z
    .string()
    .regex(/^(0o?)?[0-7]{1,4}$/, "octal digits, like 644 or 0755")
    .transform((value) => Number.parseInt(value.replace(/^0o/, ""), 8)),
]);
