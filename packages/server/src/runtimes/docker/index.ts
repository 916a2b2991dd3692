export { createDockerRuntime, DockerRuntime } from "./docker-runtime.js";
export { createDockerodeClient, type ContainerSpec, type ContainerSummary, type DockerClient } from "./docker-client.js";
export { buildDefaultImage } from "./default-image.js";
