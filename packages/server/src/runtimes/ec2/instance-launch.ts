import { randomBytes } from "node:crypto";
import { CiabError } from "@ciab/protocol";
import type { EC2RuntimeConfig } from "./ec2-runtime-config.js";
import type { EC2API, ImageSummary, LaunchRequest } from "./ec2-client.js";
import { awsCall } from "./ec2-errors.js";
import { prebuiltImageNamePrefix, ubuntuImageNamePattern, ubuntuImageOwner } from "./instance-layout.js";
import { machineLabels, type MachineSpec } from "../runtime.js";

export interface ChosenImage {
  image: ImageSummary;
  /** Carries node and agentd at /opt/ciab/bin: the user-data only writes and starts the unit. */
  prebuilt: boolean;
}

/**
 * The AMI to boot: the sandbox's, else `default_ami`, else the newest Canonical Ubuntu 22.04. An image
 * named `ciab-agent-*`, or the configured default, is taken as pre-built.
 */
export async function chooseImage(api: EC2API, config: EC2RuntimeConfig, requested: string | undefined, signal: AbortSignal): Promise<ChosenImage> {
  const imageID = requested ?? config.default_ami;
  if (imageID === undefined) {
    const image = await awsCall("DescribeImages", () => api.newestImage(ubuntuImageOwner, ubuntuImageNamePattern, signal), config.region);
    if (!image) {
      throw new CiabError("image_not_found", `no Ubuntu 22.04 AMI of Canonical found in ${config.region}; set [runtime.ec2] default_ami`);
    }
    return { image, prebuilt: image.name.startsWith(prebuiltImageNamePrefix) };
  }
  const image = await awsCall("DescribeImages", () => api.describeImage(imageID, signal), config.region).catch((error: unknown) => {
    if ((error as CiabError).context?.awsCode === "InvalidAMIID.NotFound") return null;
    throw error;
  });
  if (!image) {
    throw new CiabError("image_not_found", `AMI ${imageID} does not exist in ${config.region} (or is not shared with this account)`, {
      context: { image: imageID, ...(image === null && { awsCode: "InvalidAMIID.NotFound" }) },
    });
  }
  return { image, prebuilt: image.name.startsWith(prebuiltImageNamePrefix) || imageID === config.default_ami };
}

/** Lets cost reports group instances by workspace. */
export const workspaceTag = "ciab-workspace-id";

export interface LaunchInputs {
  config: EC2RuntimeConfig;
  spec: MachineSpec;
  image: ImageSummary;
  installationID: string;
  userData: string;
}

/** RunInstances in our words: our tags win over custom ones of the same name. */
export function launchRequest({ config, spec, image, installationID, userData }: LaunchInputs): LaunchRequest {
  return {
    imageID: image.imageID,
    instanceType: config.instance_type,
    subnetID: config.subnet_id,
    securityGroupIDs: config.security_group_ids,
    keyName: config.key_pair_name,
    instanceProfile: config.iam_instance_profile,
    rootVolume: { deviceName: image.rootDeviceName, sizeGB: config.root_volume_size_gb, type: config.root_volume_type },
    spot: config.spot,
    tags: {
      ...config.tags,
      Name: `ciab-${spec.name}`,
      [machineLabels.managed]: "true",
      [machineLabels.sandboxID]: spec.sandboxID,
      [machineLabels.installationID]: installationID,
      ...(spec.workspaceID !== undefined && { [workspaceTag]: spec.workspaceID }),
    },
    userData,
    // Fresh per provision (the SDK's own retries reuse it): a sandbox provisioned again after a failure
    // must get a new instance, not the terminated one its earlier token names.
    clientToken: `${spec.sandboxID}.${randomBytes(6).toString("hex")}`.slice(-64),
  };
}
