# Runs no machine: a null builder that prints the variables ciab passes, so tests see what reaches Packer.
variable "provider" {
  type = string
}
variable "region" {
  type = string
}
variable "instance_type" {
  type = string
}
variable "subnet_id" {
  type    = string
  default = ""
}
variable "build_id" {
  type = string
}
source "null" "echo" {
  communicator = "none"
}
build {
  sources = ["source.null.echo"]
  provisioner "shell-local" {
    inline = ["echo 'variables: provider=${var.provider} region=${var.region} instance_type=${var.instance_type} subnet_id=${var.subnet_id}'"]
  }
}
