import { DescribeSecurityGroupsCommand, DescribeSubnetsCommand } from "@aws-sdk/client-ec2";
import { harnessEC2Client } from "./ec2-client.js";

/** The first subnet and security group of moto's default VPC, as `[runtime.fargate]` takes them. */
export async function defaultNetwork(endpoint: string): Promise<{ subnets: string[]; security_groups: string[] }> {
  const ec2 = harnessEC2Client(endpoint);
  try {
    const subnets = (await ec2.send(new DescribeSubnetsCommand({}))).Subnets!.map((subnet) => subnet.SubnetId!);
    const groups = (await ec2.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups!.map((group) => group.GroupId!);
    return { subnets: subnets.slice(0, 1), security_groups: groups.slice(0, 1) };
  } finally {
    ec2.destroy();
  }
}
