source "docker" "broken" {
  image = "ciab/default:bookworm"
  pull = false
  commit = true
  no_such_option = 1
}
build {
  sources = ["source.docker.broken"]
}
