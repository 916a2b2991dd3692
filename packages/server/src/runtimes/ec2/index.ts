export { createEC2Runtime, EC2Runtime } from "./ec2-runtime.js";
export { createEC2API, type EC2API, type ImageSummary, type InstanceSummary, type LaunchRequest } from "./ec2-client.js";
export { ec2RuntimeSchema, type EC2RuntimeConfig } from "./ec2-runtime-config.js";
