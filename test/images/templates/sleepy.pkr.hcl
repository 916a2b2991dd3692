# Runs no machine: a null builder whose shell-local step sleeps, for queue, cancel and timeout tests.
variable "build_id" {
  type    = string
  default = "manual"
}
variable "seconds" {
  type    = string
  default = "60"
}
source "null" "sleepy" {
  communicator = "none"
}
build {
  sources = ["source.null.sleepy"]
  provisioner "shell-local" {
    inline = ["echo sleeping for ${var.build_id}", "sleep ${var.seconds}"]
  }
}
