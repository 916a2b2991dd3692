import { CiabError } from "@ciab/protocol";
import type { PackerConfig } from "./packer-config.js";
import type { TemplateSource } from "./template-source.js";

/** Variables ciab itself gives a template, when the template declares them. */
export const ownVariables = new Set(["provider", "region", "instance_type", "subnet_id", "build_id", "tools_dir", "agent_package", "agent_binary", "image_repository", "image_tag", "endpoint", "bastion_host", "bastion_port", "bastion_username", "bastion_private_key_file", "node_binary", "agentd_bundle"]);
const builtinVariables: Record<string, Set<string>> = {
  "default-docker": new Set(["provider", "agent_package", "agent_binary", "tools_dir", "base_image", "image_repository", "image_tag", "build_id", "install_rust", "install_go", "extra_packages"]),
  "default-ec2": new Set(["agent_package", "source_ami_owner", "source_ami_name", "ssh_username", "ssh_private_key_file", "user_data", "install_toolchains"]),
};

/**
 * Builtin variables only installation admins set: a file of this host Packer reads (`ssh_private_key_file`),
 * and the image a build starts from, which can name another workspace's image or AMI.
 */
export const adminVariables = new Set(["base_image", "source_ami_owner", "source_ami_name", "ssh_private_key_file"]);

/**
 * What the caller's values of builtin variables may hold. The builtin templates interpolate them into
 * `shell-local` commands that run on the control plane's host, so a value is a name and nothing else.
 */
const builtinValues: Record<string, RegExp> = {
  agent_package: /^(@[a-z0-9][a-z0-9._-]{0,100}\/)?[a-z0-9][a-z0-9._-]{0,100}$/,
  agent_binary: /^[A-Za-z0-9][A-Za-z0-9._-]{0,100}$/,
  base_image: /^[a-z0-9][a-z0-9._/-]{0,200}(:[A-Za-z0-9_][A-Za-z0-9._-]{0,127})?(@sha256:[0-9a-f]{64})?$/,
  install_rust: /^(true|false)$/,
  install_go: /^(true|false)$/,
  install_toolchains: /^(true|false)$/,
  ssh_username: /^[a-z_][a-z0-9_-]{0,31}$/,
  extra_packages: /^ *(?:[a-z0-9][a-z0-9+.-]{0,100}(?: +|$)){0,64}$/,
};

/** The caller's variables of a builtin template, checked before the build is queued. */
export function checkBuiltinVariables(source: TemplateSource, vars: Record<string, string>): void {
  if (source.kind !== "builtin") return;
  const known = builtinVariables[source.name];
  if (!known) return;
  const unknown = Object.keys(vars).filter((name) => !known.has(name));
  if (unknown.length > 0) throw new CiabError("invalid_request", `builtin://${source.name} declares no variable ${unknown.join(", ")}; it takes ${[...known].filter((name) => !ownVariables.has(name)).join(", ")}`);
  for (const [name, value] of Object.entries(vars)) {
    const allowed = builtinValues[name];
    if (allowed && !allowed.test(value)) throw new CiabError("invalid_request", `variable ${name} of builtin://${source.name} must match ${allowed.source}`);
  }
}

/** `[packer] bastion` (`user@host:port`) as the templates' `bastion_*` variables. */
export function bastionVariables(config: PackerConfig): Record<string, string | undefined> {
  const match = config.bastion?.match(/^([^@]+)@(.+):(\d+)$/);
  if (!match) return {};
  return { bastion_username: match[1], bastion_host: match[2], bastion_port: match[3], bastion_private_key_file: config.bastion_private_key_file };
}
