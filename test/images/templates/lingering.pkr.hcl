# A docker build that stays in its provisioner, labelled as ciab labels builds: for the control plane
# killed mid-build, whose restart must find the container by its label and remove it.
variable "build_id" {
  type    = string
  default = "manual"
}
source "docker" "lingering" {
  image       = "ciab/default:bookworm"
  pull        = false
  commit      = true
  run_command = ["-d", "-i", "-t", "--network=none", "--label", "ciab-build-id=${var.build_id}", "--entrypoint=/bin/sh", "--", "{{.Image}}"]
}
build {
  sources = ["source.docker.lingering"]
  provisioner "shell" {
    inline = ["echo provisioning", "sleep 300"]
  }
}
