import { EC2Client } from "@aws-sdk/client-ec2";

/** The harness's own EC2 client for moto: fixed test credentials, few retries, so a stopped moto fails fast. */
export function harnessEC2Client(endpoint: string, region = "us-east-1"): EC2Client {
  return new EC2Client({
    endpoint,
    region,
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    maxAttempts: 1,
  });
}
