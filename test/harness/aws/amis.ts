import { writeFileSync } from "node:fs";
import path from "node:path";

/** The account Canonical publishes its Ubuntu AMIs from. */
export const canonicalOwnerID = "099720109477";
/** moto's default account: AMIs "we" built (the pre-built agent AMI) belong to it. */
export const ownAccountID = "123456789012";

/** The newest Ubuntu 22.04 AMI registered in moto: what a lookup of "latest jammy" must find. */
export const ubuntuJammyAMIID = "ami-0e2c8caa4b6378d8c";
/** The AMI treated as pre-built with Node and agentd (see ami-images.ts). */
export const agentAMIID = "ami-0c1a5f3e9d7b2a401";
/** Names of AMIs that boot the pre-built image start with this; every other AMI boots the plain one. */
export const agentAMINamePrefix = "ciab-agent-";

interface MotoAMI {
  ami_id: string;
  name: string;
  description: string;
  owner_id: string;
  creation_date: string;
  state: "available";
  public: boolean;
  architecture: "x86_64";
  virtualization_type: "hvm";
  root_device_type: "ebs";
  root_device_name: string;
  hypervisor: "xen";
  image_type: "machine";
  platform?: string;
  image_location: string;
  sriov: "simple";
}

function ubuntuJammy(id: string, serial: string): MotoAMI {
  const name = `ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-${serial}`;
  return {
    ami_id: id,
    name,
    description: `Canonical, Ubuntu, 22.04 LTS, amd64 jammy image build on ${serial.slice(0, 4)}-${serial.slice(4, 6)}-${serial.slice(6, 8)}`,
    owner_id: canonicalOwnerID,
    creation_date: `${serial.slice(0, 4)}-${serial.slice(4, 6)}-${serial.slice(6, 8)}T12:00:00.000Z`,
    state: "available",
    public: true,
    architecture: "x86_64",
    virtualization_type: "hvm",
    root_device_type: "ebs",
    root_device_name: "/dev/sda1",
    hypervisor: "xen",
    image_type: "machine",
    image_location: `amazon/${name}`,
    sriov: "simple",
  };
}

/** The AMIs moto knows in the harness, in the shape `MOTO_AMIS_PATH` takes (moto/ec2/models/amis.py). */
export const harnessAMIs: readonly MotoAMI[] = [
  ubuntuJammy("ami-0a8b4cd432b1c3063", "20231207"),
  ubuntuJammy("ami-06aa3f7caf3a30282", "20231212"),
  ubuntuJammy(ubuntuJammyAMIID, "20240101"),
  {
    ...ubuntuJammy(agentAMIID, "20240101"),
    name: `${agentAMINamePrefix}20240102-0000`,
    description: "ciab agent image: Node and ciab-agentd installed, no unit",
    owner_id: ownAccountID,
    public: false,
    image_location: `${ownAccountID}/${agentAMINamePrefix}20240102-0000`,
  },
];

/** Writes the AMI list into `directory` and answers its path, for `MOTO_AMIS_PATH`. */
export function writeAMIsFile(directory: string): string {
  const file = path.join(directory, "amis.json");
  writeFileSync(file, JSON.stringify(harnessAMIs, null, 1));
  return file;
}
