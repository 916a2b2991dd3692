import { CiabError } from "@ciab/protocol";

/** AWS error names that say the table is busy or DynamoDB is briefly unwell: trying again can help. */
const transientNames = new Set([
  "ProvisionedThroughputExceededException",
  "ThrottlingException",
  "RequestLimitExceeded",
  "InternalServerError",
  "InternalFailure",
  "ServiceUnavailable",
  "LimitExceededException",
  "TimeoutError",
  "RequestTimeout",
  "RequestTimeoutException",
]);

const networkCodes = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENOTFOUND", "EAI_AGAIN"]);

interface AWSLikeError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  CancellationReasons?: Array<{ Code?: string }>;
}

/** Whether the call failed because DynamoDB was throttling, failing or out of reach. */
export function isTransient(error: unknown): boolean {
  const aws = error as AWSLikeError;
  if (aws.name !== undefined && transientNames.has(aws.name)) return true;
  if (aws.code !== undefined && networkCodes.has(aws.code)) return true;
  if ((aws.$metadata?.httpStatusCode ?? 0) >= 500) return true;
  const cause = (error as { cause?: unknown }).cause;
  return cause !== undefined && cause !== error && isTransient(cause);
}

/** Reasons a transaction was cancelled, one per item (`None`, `ConditionalCheckFailed`, `TransactionConflict`…). */
export function cancellationCodes(error: unknown): string[] | undefined {
  const aws = error as AWSLikeError;
  if (aws.name !== "TransactionCanceledException") return undefined;
  if (aws.CancellationReasons) return aws.CancellationReasons.map((reason) => reason.Code ?? "None");
  // Some endpoints give the reasons only in the message: "... [None, ConditionalCheckFailed]".
  const listed = /\[([^\]]*)\]/.exec(aws.message ?? "")?.[1];
  return listed?.split(",").map((code) => code.trim()) ?? [];
}

export function isConditionFailure(error: unknown): boolean {
  const aws = error as AWSLikeError;
  if (aws.name === "ConditionalCheckFailedException") return true;
  return cancellationCodes(error)?.includes("ConditionalCheckFailed") ?? false;
}

/** A transaction that collided with another one on the same items (not a failed condition). */
export function isTransactionConflict(error: unknown): boolean {
  const aws = error as AWSLikeError;
  if (aws.name === "TransactionConflictException" || aws.name === "TransactionInProgressException") return true;
  const codes = cancellationCodes(error);
  return codes !== undefined && codes.includes("TransactionConflict") && !codes.includes("ConditionalCheckFailed");
}

/**
 * Turns an SDK failure into the store's typed error, keeping the AWS name and the cause. AWS's own message
 * stays in the cause, which the API's error handler logs: a message may quote the request's keys and values,
 * and an `internal` error's message reaches the API caller (and a session's failure).
 */
export function storeError(error: unknown, table: string): CiabError {
  if (error instanceof CiabError) return error;
  const aws = error as AWSLikeError;
  const awsCode = aws.name ?? aws.code ?? "Error";
  if (aws.name === "ResourceNotFoundException") {
    return new CiabError("store_unavailable", `DynamoDB table ${table} does not exist (create it with \`ciab store init\`)`, {
      cause: error,
      context: { table, awsCode },
    });
  }
  if (isTransient(error)) {
    return new CiabError("store_unavailable", `DynamoDB table ${table} cannot be reached or is throttling (${awsCode})`, {
      cause: error,
      context: { table, awsCode },
      retryable: true,
    });
  }
  if (aws.name === "ValidationException" && /size/i.test(aws.message ?? "")) {
    return new CiabError("payload_too_large", "an item is over DynamoDB's size limit of 400 KB", { cause: error, context: { table, awsCode } });
  }
  return new CiabError("internal", `the state store failed (DynamoDB ${awsCode})`, { cause: error, context: { awsCode } });
}
