# ciab's default AMI (seed 004): Ubuntu 22.04 with Node.js 20, Python 3.11, Rust, Go 1.22, git, curl, jq,
# the agent CLI of `provider`, ciab-agentd at the paths the ec2 runtime expects of a `ciab-agent-*` AMI
# (runtimes/ec2/instance-layout.ts), and a non-root `ciab` user reachable over SSH.
# `endpoint` points amazon-ebs at an AWS-compatible EC2 API; `bastion_*` reach the build instance through
# an SSH jump host (docs/decisions/0031-packer-against-moto.md).

variable "provider" {
  type    = string
  default = "claude-code"
}
variable "agent_package" {
  type    = string
  default = "@anthropic-ai/claude-code"
}
variable "region" {
  type    = string
  default = "us-east-1"
}
variable "instance_type" {
  type    = string
  default = "t3.medium"
}
variable "subnet_id" {
  type    = string
  default = ""
}
variable "build_id" {
  type    = string
  default = "manual"
}
variable "endpoint" {
  type    = string
  default = ""
}
variable "bastion_host" {
  type    = string
  default = ""
}
variable "bastion_port" {
  type    = string
  default = "22"
}
variable "bastion_username" {
  type    = string
  default = ""
}
variable "bastion_private_key_file" {
  type    = string
  default = ""
}
variable "node_binary" {
  type = string
}
variable "agentd_bundle" {
  type = string
}
variable "source_ami_owner" {
  type    = string
  default = "099720109477"
}
variable "source_ami_name" {
  type    = string
  default = "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-*"
}
variable "ssh_username" {
  type    = string
  default = "ubuntu"
}
variable "ssh_private_key_file" {
  type    = string
  default = ""
}
variable "user_data" {
  type    = string
  default = ""
}
variable "install_toolchains" {
  type    = bool
  default = true
}

locals {
  tags = {
    "ciab-managed"  = "true"
    "ciab-build-id" = var.build_id
    "ciab-provider" = var.provider
  }
  toolchains = [
    "sudo apt-get update -qq",
    "sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq git curl jq build-essential software-properties-common ca-certificates",
    "sudo add-apt-repository -y ppa:deadsnakes/ppa && sudo apt-get install -y -qq python3.11 python3.11-venv",
    "curl -fsSL https://deb.nodesource.com/setup_20.x | sudo -E bash - && sudo apt-get install -y -qq nodejs",
    "curl -fsSL https://go.dev/dl/go1.22.12.linux-amd64.tar.gz | sudo tar -C /usr/local -xz && echo 'export PATH=$PATH:/usr/local/go/bin' | sudo tee /etc/profile.d/go.sh",
    "sudo -u ciab -H sh -c 'curl -fsSL https://sh.rustup.rs | sh -s -- -y --profile minimal'",
    "sudo npm install -g ${var.agent_package}",
  ]
}

source "amazon-ebs" "default" {
  region              = var.region
  instance_type       = var.instance_type
  subnet_id           = var.subnet_id
  custom_endpoint_ec2 = var.endpoint
  ami_name            = "ciab-agent-${var.provider}-${var.build_id}"
  ssh_username        = var.ssh_username
  # With a key of our own (and user_data that authorizes it), Packer creates no temporary key pair.
  ssh_private_key_file = var.ssh_private_key_file
  user_data            = var.user_data
  ssh_interface       = var.bastion_host == "" ? "public_ip" : "private_ip"
  ssh_bastion_host             = var.bastion_host
  ssh_bastion_port             = var.bastion_port
  ssh_bastion_username         = var.bastion_username
  ssh_bastion_private_key_file = var.bastion_private_key_file
  source_ami_filter {
    filters = {
      name                = var.source_ami_name
      root-device-type    = "ebs"
      virtualization-type = "hvm"
    }
    owners      = [var.source_ami_owner]
    most_recent = true
  }
  tags          = local.tags
  run_tags      = local.tags
  snapshot_tags = local.tags
}

build {
  sources = ["source.amazon-ebs.default"]

  provisioner "shell" {
    inline = [
      "id ciab >/dev/null 2>&1 || sudo useradd --create-home --shell /bin/bash ciab",
      "sudo install -d -o ciab -g ciab -m 700 /home/ciab/.ssh",
      "sudo install -d -m 755 /opt/ciab/bin /opt/ciab/tools",
    ]
  }
  provisioner "shell" {
    inline = var.install_toolchains ? local.toolchains : ["echo toolchains skipped: install_toolchains = false"]
  }
  provisioner "file" {
    source      = var.node_binary
    destination = "/tmp/ciab-node"
  }
  provisioner "file" {
    source      = var.agentd_bundle
    destination = "/tmp/ciab-agentd.js"
  }
  provisioner "shell" {
    inline = [
      "sudo install -m 755 /tmp/ciab-node /opt/ciab/bin/node",
      "sudo install -m 644 /tmp/ciab-agentd.js /opt/ciab/bin/ciab-agentd.js",
      "rm -f /tmp/ciab-node /tmp/ciab-agentd.js",
      "/opt/ciab/bin/node --version",
    ]
  }
}
