import { CiabError } from "@ciab/protocol";

/** AWS codes after which the same call may succeed later (capacity, throttling, AWS's own faults). */
const retryableCodes = new Set([
  "InsufficientInstanceCapacity",
  "InsufficientHostCapacity",
  "InsufficientReservedInstanceCapacity",
  "InsufficientAddressCapacity",
  "InsufficientFreeAddressesInSubnet",
  "SpotMaxPriceTooLow",
  "MaxSpotInstanceCountExceeded",
  "RequestLimitExceeded",
  "Throttling",
  "ThrottlingException",
  "InternalError",
  "InternalFailure",
  "ServiceUnavailable",
  "Unavailable",
  "IncorrectInstanceState",
  "ServerException",
]);

/** The AWS error code of an SDK error (`InvalidAMIID.NotFound`), if it is one. */
export function awsErrorCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const candidate = error as { name?: unknown; Code?: unknown; $metadata?: unknown };
  if (candidate.$metadata === undefined) return undefined;
  if (typeof candidate.Code === "string") return candidate.Code;
  return typeof candidate.name === "string" ? candidate.name : undefined;
}

export function isInstanceNotFound(error: unknown): boolean {
  const code = awsErrorCode(error);
  return code === "InvalidInstanceID.NotFound" || code === "InvalidInstanceID.Malformed";
}

/**
 * An EC2 failure as CiabError `runtime_error`, keeping AWS's code (`context.awsCode`) and saying whether a
 * retry can help. Anything that is not an AWS error passes through unchanged.
 */
export function toRuntimeError(error: unknown, action: string, region?: string, service = "ec2"): unknown {
  const code = awsErrorCode(error);
  if (code === undefined || error instanceof CiabError) return error;
  const message = (error as Error).message;
  const where = region === undefined ? "" : ` in ${region}`;
  return new CiabError("runtime_error", `${service}: ${action}${where}: ${code}: ${message}`, {
    cause: error,
    context: { awsCode: code, ...(region !== undefined && { region }) },
    retryable: retryableCodes.has(code) || (error as { $retryable?: unknown }).$retryable !== undefined,
  });
}

/** Runs one AWS call (EC2 unless `service` says otherwise), mapping its failure with `toRuntimeError`. */
export async function awsCall<T>(action: string, call: () => Promise<T>, region?: string, service?: string): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toRuntimeError(error, action, region, service);
  }
}
