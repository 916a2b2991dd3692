import { EC2ServiceException } from "@aws-sdk/client-ec2";
import { describe, expect, test } from "vitest";
import { CiabError } from "@ciab/protocol";
import { awsCall, isInstanceNotFound, toRuntimeError } from "./ec2-errors.js";

function awsError(code: string): EC2ServiceException {
  return new EC2ServiceException({ name: code, $fault: "client", $metadata: { httpStatusCode: 400 }, message: `${code} happened` });
}

describe("toRuntimeError", () => {
  test.each([
    ["InsufficientInstanceCapacity", true],
    ["RequestLimitExceeded", true],
    ["InsufficientFreeAddressesInSubnet", true],
    ["UnauthorizedOperation", false],
    ["InvalidAMIID.NotFound", false],
    ["InvalidSubnetID.NotFound", false],
  ])("%s is runtime_error with the code kept, retryable %s", (code, retryable) => {
    const error = toRuntimeError(awsError(code), "RunInstances");
    expect(error).toBeInstanceOf(CiabError);
    expect(error).toMatchObject({ code: "runtime_error", retryable, context: { awsCode: code } });
    expect((error as CiabError).message).toBe(`ec2: RunInstances: ${code}: ${code} happened`);
    expect((error as CiabError).cause).toBeInstanceOf(EC2ServiceException);
  });

  test("what is not an AWS error passes through; awsCall maps what its call throws", async () => {
    const plain = new Error("socket hang up");
    expect(toRuntimeError(plain, "DescribeInstances")).toBe(plain);
    await expect(awsCall("TerminateInstances", () => Promise.reject(awsError("InvalidInstanceID.NotFound")))).rejects.toMatchObject({
      context: { awsCode: "InvalidInstanceID.NotFound" },
    });
    expect(isInstanceNotFound(awsError("InvalidInstanceID.NotFound"))).toBe(true);
  });
});
