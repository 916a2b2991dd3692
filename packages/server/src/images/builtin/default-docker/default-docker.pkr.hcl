# ciab's default Docker image: the seed's toolchain on ciab's base image, for the docker runtime.
# Build containers have no network here and there is no registry, so the base image is local (pull = false)
# and the toolchains are the host's Debian packages (export-host-packages.sh); the agent CLI comes from
# the host tools dir. Rust and Go are off by default: they are large and only wanted where a host has them.

variable "provider" {
  type    = string
  default = "claude-code"
}
variable "agent_package" {
  type    = string
  default = "@anthropic-ai/claude-code"
}
variable "agent_binary" {
  type    = string
  default = "claude"
}
variable "tools_dir" {
  type = string
}
variable "base_image" {
  type    = string
  default = "ciab/default:bookworm"
}
variable "image_repository" {
  type    = string
  default = "ciab/agent"
}
variable "image_tag" {
  type    = string
  default = "latest"
}
variable "build_id" {
  type    = string
  default = "manual"
}
variable "install_rust" {
  type    = bool
  default = false
}
variable "install_go" {
  type    = bool
  default = false
}
variable "extra_packages" {
  type    = string
  default = ""
}

locals {
  packages = join(" ", compact(concat(
    ["nodejs", "python3", "python3.11", "git", "curl", "jq", "ca-certificates"],
    var.install_rust ? ["rustc", "cargo"] : [],
    var.install_go ? ["golang-go"] : [],
    split(" ", var.extra_packages),
  )))
}

source "docker" "default" {
  image  = var.base_image
  pull   = false
  commit = true
  run_command = [
    "-d", "-i", "-t", "--network=none",
    "--label", "ciab-managed=true", "--label", "ciab-build-id=${var.build_id}",
    "-v", "${var.tools_dir}:/ciab-host-tools:ro",
    "-v", "${abspath(".")}:/ciab-staging:ro",
    "--entrypoint=/bin/sh", "--", "{{.Image}}",
  ]
  changes = [
    "ENTRYPOINT [\"\"]",
    "CMD [\"/bin/bash\"]",
    "WORKDIR /workspace",
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LABEL ciab-managed=true ciab-build-id=${var.build_id} ciab-provider=${var.provider}",
  ]
}

build {
  sources = ["source.docker.default"]

  provisioner "shell-local" {
    inline = ["sh ./export-host-packages.sh ./host-packages.tar ${var.base_image} ${local.packages}"]
  }

  provisioner "shell" {
    inline = [
      "tar -xf /ciab-staging/host-packages.tar -C /",
      "mkdir -p /opt/ciab/agent/node_modules /workspace",
      "node /ciab-staging/copy-agent.cjs /ciab-host-tools/node_modules ${var.agent_package} ${var.agent_binary} /opt/ciab/agent/node_modules",
      "id ciab >/dev/null 2>&1 || useradd --create-home --shell /bin/bash ciab",
      "node --version && python3 --version && git --version && jq --version",
    ]
  }

  post-processor "docker-tag" {
    repository = var.image_repository
    tags       = [var.image_tag]
  }
}
