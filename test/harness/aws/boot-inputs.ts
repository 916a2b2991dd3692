import { DescribeImagesCommand, DescribeInstanceAttributeCommand, DescribeKeyPairsCommand, type EC2Client } from "@aws-sdk/client-ec2";
import { imageForAMI } from "./ami-images.js";

const maxUserDataBytes = 64 * 1024;

/** The instance's user-data as cloud-init reads it; a few tries, as moto may be slow to answer. */
export async function readUserData(ec2: EC2Client, instanceID: string, signal: AbortSignal): Promise<Buffer> {
  const encoded = await withRetries(signal, async () => {
    const answer = await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: instanceID, Attribute: "userData" }), {
      abortSignal: AbortSignal.any([signal, AbortSignal.timeout(5_000)]),
    });
    return answer.UserData?.Value ?? "";
  });
  // EC2 takes 16 KiB; moto takes anything, and what a test launches must not fill the harness's memory.
  if (encoded.length > Math.ceil((maxUserDataBytes * 4) / 3) + 4) throw new Error(`user-data of ${instanceID} is over ${maxUserDataBytes} bytes`);
  return Buffer.from(encoded, "base64");
}

/** The public key of an AWS key pair, as EC2's metadata service would give it to the instance. */
export async function readKeyPairPublicKey(ec2: EC2Client, keyName: string, signal: AbortSignal): Promise<string[]> {
  const answer = await withRetries(signal, () =>
    ec2.send(new DescribeKeyPairsCommand({ KeyNames: [keyName], IncludePublicKey: true }), { abortSignal: AbortSignal.any([signal, AbortSignal.timeout(5_000)]) }),
  );
  const key = answer.KeyPairs?.[0]?.PublicKey?.trim();
  return key ? [key] : [];
}

async function withRetries<T>(signal: AbortSignal, call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (signal.aborted || attempt >= 5) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}

/** The Docker image for an AMI, by the AMI's name; an AMI moto cannot describe boots the plain image. */
export function cachedImageLookup(ec2: EC2Client): (imageID: string, signal: AbortSignal) => Promise<string> {
  const images = new Map<string, string>();
  return async (imageID, signal) => {
    const known = images.get(imageID);
    if (known) return known;
    try {
      const answer = await ec2.send(new DescribeImagesCommand({ ImageIds: [imageID] }), { abortSignal: AbortSignal.any([signal, AbortSignal.timeout(5_000)]) });
      const image = imageForAMI(answer.Images?.[0]?.Name);
      images.set(imageID, image);
      return image;
    } catch (error) {
      if (signal.aborted) throw error;
      return imageForAMI(undefined);
    }
  };
}
