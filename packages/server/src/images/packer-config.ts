import { z } from "zod";

const bool = z.union([z.boolean(), z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1")]);

/** `[packer]`: image builds (docs/decisions/0030-image-builder.md). Every key is also `CIAB_PACKER_<KEY>`. */
export const packerSectionSchema = z.strictObject({
  /** The packer binary, found on PATH when not a path. */
  binary_path: z.string().min(1).default("packer"),
  /** When packer is missing, install Debian's `packer` package with apt-get (needs root). */
  auto_install: bool.default(false),
  /** Where each build gets a directory (its template, staging files and log). */
  work_dir: z.string().min(1).default("/tmp/ciab-packer"),
  default_region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "an AWS region like us-east-1").default("us-east-1"),
  build_instance_type: z.string().regex(/^[a-z0-9-]+\.[a-z0-9-]+$/, "an instance type like t3.medium").default("t3.medium"),
  /** Subnet of the build instance; empty: the default VPC's. */
  build_subnet_id: z.string().default(""),
  build_timeout_secs: z.coerce.number().int().min(1).default(1800),
  /** After an interrupt (cancel, timeout), how long Packer may clean up before its process group is killed. */
  cleanup_grace_secs: z.coerce.number().int().min(1).default(300),
  template_source: z.string().min(1).default("builtin://default-ec2"),
  /** An AWS-compatible EC2 API, passed to amazon-ebs as `custom_endpoint_ec2`. */
  endpoint: z.url({ protocol: /^https?$/ }).optional(),
  /** Builds that run at once; the rest wait in the queue. */
  max_concurrent_builds: z.coerce.number().int().min(1).max(64).default(2),
  /** Largest template fetched over http(s) or read from a file or a git checkout. */
  max_template_bytes: z.coerce.number().int().min(1024).default(1024 * 1024),
  /** Packer's output kept per build; past it the oldest part is dropped from the stored log. */
  max_log_bytes: z.coerce.number().int().min(4096).default(8 * 1024 * 1024),
  /**
   * `ssh_bastion_host` etc. for amazon-ebs: Packer reaches the build instance through this SSH bastion
   * (`user@host:port`); the private key file is `bastion_private_key_file`.
   */
  bastion: z.string().regex(/^[a-z_][a-z0-9_-]*@[^:@\s]+:\d{1,5}$/i, "user@host:port").optional(),
  bastion_private_key_file: z.string().min(1).optional(),
});

export type PackerConfig = z.infer<typeof packerSectionSchema>;
