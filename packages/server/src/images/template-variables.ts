import { CiabError } from "@ciab/protocol";
import type { PackerConfig } from "./packer-config.js";
import type { TemplateSource } from "./template-source.js";

/** Variables ciab itself gives a template, when the template declares them. */
export const ownVariables = new Set(["provider", "region", "instance_type", "subnet_id", "build_id", "tools_dir", "agent_package", "agent_binary", "image_repository", "image_tag", "endpoint", "bastion_host", "bastion_port", "bastion_username", "bastion_private_key_file", "node_binary", "agentd_bundle"]);
const builtinVariables: Record<string, Set<string>> = {
  "default-docker": new Set(["provider", "agent_package", "agent_binary", "tools_dir", "base_image", "image_repository", "image_tag", "build_id", "install_rust", "install_go", "extra_packages"]),
};

/** The caller's variables of a builtin template, checked before the build is queued. */
export function checkBuiltinVariables(source: TemplateSource, vars: Record<string, string>): void {
  if (source.kind !== "builtin") return;
  const known = builtinVariables[source.name];
  if (!known) return;
  const unknown = Object.keys(vars).filter((name) => !known.has(name));
  if (unknown.length > 0) throw new CiabError("invalid_request", `builtin://${source.name} declares no variable ${unknown.join(", ")}; it takes ${[...known].filter((name) => !ownVariables.has(name)).join(", ")}`);
}

/** `[packer] bastion` (`user@host:port`) as the templates' `bastion_*` variables. */
export function bastionVariables(config: PackerConfig): Record<string, string | undefined> {
  const match = config.bastion?.match(/^([^@]+)@(.+):(\d+)$/);
  if (!match) return {};
  return { bastion_username: match[1], bastion_host: match[2], bastion_port: match[3], bastion_private_key_file: config.bastion_private_key_file };
}
