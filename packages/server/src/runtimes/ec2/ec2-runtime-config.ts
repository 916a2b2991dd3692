import { z } from "zod";

const bool = z.union([z.boolean(), z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1")]);
const commaList = z
  .union([z.array(z.string()), z.string().transform((v) => v.split(",").map((s) => s.trim()).filter(Boolean))])
  .pipe(z.array(z.string().min(1)));
/** A table in config.toml, or `key=value,key=value` in an env variable. */
const tagMap = z
  .union([
    z.record(z.string(), z.string()),
    z.string().transform((v) =>
      Object.fromEntries(
        v
          .split(",")
          .map((pair) => pair.trim())
          .filter(Boolean)
          .map((pair) => [pair.slice(0, pair.indexOf("=") < 0 ? pair.length : pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)]),
      ),
    ),
  ])
  .pipe(z.record(z.string().min(1).max(128), z.string().max(256)));

/** The jump host the control plane reaches instances' private addresses through. */
export const ec2BastionSchema = z
  .strictObject({
    host: z.string().min(1),
    port: z.coerce.number().int().min(1).max(65535).default(22),
    user: z.string().min(1),
    /** An OpenSSH or PEM private key, inline. */
    private_key: z.string().min(1).optional(),
    private_key_path: z.string().min(1).optional(),
  })
  .refine((bastion) => bastion.private_key !== undefined || bastion.private_key_path !== undefined, {
    message: "needs private_key or private_key_path",
  });

/**
 * `[runtime.ec2.workspaces.<workspace id>]`: what one workspace launches differently (another region,
 * account network, size or AMI; tags merged over the section's). config.toml only.
 */
export const ec2WorkspaceOverrideSchema = z.strictObject({
  region: z.string().min(1).optional(),
  default_ami: z.string().min(1).optional(),
  instance_type: z.string().min(1).optional(),
  subnet_id: z.string().min(1).optional(),
  security_group_ids: commaList.optional(),
  volume_size_gb: z.coerce.number().int().min(1).max(16384).optional(),
  tags: tagMap.optional(),
});

/** `[runtime.ec2]`: sandboxes as EC2 instances (docs/decisions/0014-ec2-runtime.md). */
export const ec2RuntimeSchema = z.strictObject({
  region: z.string().min(1).default("us-east-1"),
  /** Another EC2 API endpoint (moto in tests, a VPC endpoint in production). */
  endpoint: z.url({ protocol: /^https?$/ }).optional(),
  /** An AMI id; without it, the newest Canonical Ubuntu 22.04 AMI, bootstrapped by user-data. */
  default_ami: z.string().min(1).optional(),
  instance_type: z.string().min(1).default("t3.medium"),
  subnet_id: z.string().min(1).optional(),
  security_group_ids: commaList.default([]),
  ssh_user: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, "a Linux user name").default("ubuntu"),
  ssh_port: z.coerce.number().int().min(1).max(65535).default(22),
  ssh_timeout_secs: z.coerce.number().min(1).default(300),
  /** An existing AWS key pair, used instead of a key per sandbox; its private key is `~/.ssh/<name>.pem`. */
  key_pair_name: z.string().min(1).optional(),
  iam_instance_profile: z.string().min(1).optional(),
  root_volume_size_gb: z.coerce.number().int().min(1).max(16384).default(30),
  root_volume_type: z.enum(["gp2", "gp3", "io1", "io2", "st1", "sc1", "standard"]).default("gp3"),
  /** The size of a user's persistent volume (an EBS gp3 volume), made on the user's first opted-in sandbox. */
  volume_size_gb: z.coerce.number().int().min(1).max(16384).default(20),
  terminate_on_delete: bool.default(true),
  /** Pause stops the instance (billing for compute stops; memory is lost, the disk stays). */
  stop_on_pause: bool.default(true),
  instance_ready_timeout_secs: z.coerce.number().min(1).default(300),
  tags: tagMap.default({}),
  /** Spot instances, with the on-demand price as the maximum. */
  spot: bool.default(false),
  /** `ssh`: the control plane dials sshd (through the bastion when set). `reverse`: agentd dials out. */
  channel: z.enum(["ssh", "reverse"]).default("ssh"),
  bastion: ec2BastionSchema.optional(),
  workspaces: z.record(z.string().min(1), ec2WorkspaceOverrideSchema).default({}),
});

/** The section as one workspace sees it: its overrides over the section's keys, tags merged. */
export function ec2SettingsFor(config: EC2RuntimeConfig, workspaceID: string | undefined): EC2RuntimeConfig {
  const override = workspaceID === undefined ? undefined : config.workspaces[workspaceID];
  if (override === undefined) return config;
  const { tags, ...rest } = override;
  const defined = Object.fromEntries(Object.entries(rest).filter(([, value]) => value !== undefined));
  return { ...config, ...defined, tags: { ...config.tags, ...tags } };
}

export type EC2RuntimeConfig = z.infer<typeof ec2RuntimeSchema>;
export type EC2BastionConfig = z.infer<typeof ec2BastionSchema>;
