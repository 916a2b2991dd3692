import { hkdfSync } from "node:crypto";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { CiabError } from "@ciab/protocol";

/** The one Secrets Manager call the Lambdas make. */
export interface SecretReader {
  read(secretARN: string): Promise<string>;
}

/**
 * Reads secrets by ARN; `AWS_ENDPOINT_URL_SECRETS_MANAGER` in the given env points it elsewhere (moto in
 * tests). A secret that cannot be read is a cold-start failure, so it is thrown, never answered.
 */
export function createSecretReader(env: NodeJS.ProcessEnv): SecretReader {
  const endpoint = env.AWS_ENDPOINT_URL_SECRETS_MANAGER;
  const client = new SecretsManagerClient({ ...(env.AWS_REGION && { region: env.AWS_REGION }), ...(endpoint && { endpoint }) });
  return {
    async read(secretARN) {
      try {
        const answer = await client.send(new GetSecretValueCommand({ SecretId: secretARN }), { abortSignal: AbortSignal.timeout(10_000) });
        if (answer.SecretString === undefined || answer.SecretString === "") throw new Error("the secret holds no string");
        return answer.SecretString;
      } catch (error) {
        throw new CiabError("internal", `cannot read secret ${secretARN}: ${(error as Error).message}`, { cause: error, retryable: true });
      }
    },
  };
}

/**
 * The data key from CIAB_DATA_KEY (base64, 32 bytes) or from the secret CIAB_DATA_KEY_SECRET_ARN names (any
 * string, such as the 64 characters Secrets Manager generates, stretched to 32 bytes by HKDF).
 */
export async function lambdaDataKey(env: NodeJS.ProcessEnv, secrets: SecretReader): Promise<Buffer> {
  if (env.CIAB_DATA_KEY) {
    const key = Buffer.from(env.CIAB_DATA_KEY, "base64");
    if (key.length !== 32) throw new CiabError("invalid_request", "CIAB_DATA_KEY must be 32 bytes, base64-encoded");
    return key;
  }
  if (env.CIAB_DATA_KEY_SECRET_ARN) {
    const secret = await secrets.read(env.CIAB_DATA_KEY_SECRET_ARN);
    return Buffer.from(hkdfSync("sha256", secret, "", "ciab data key", 32));
  }
  throw new CiabError(
    "invalid_request",
    "set CIAB_DATA_KEY_SECRET_ARN (or CIAB_DATA_KEY) on AWS Lambda, so every container opens the same sealed secrets",
  );
}

/** The origin secret CloudFront sends, from CIAB_ORIGIN_VERIFY_SECRET_ARN or CIAB_ORIGIN_VERIFY; undefined: none is checked. */
export async function lambdaOriginSecret(env: NodeJS.ProcessEnv, secrets: SecretReader): Promise<string | undefined> {
  if (env.CIAB_ORIGIN_VERIFY_SECRET_ARN) return secrets.read(env.CIAB_ORIGIN_VERIFY_SECRET_ARN);
  return env.CIAB_ORIGIN_VERIFY || undefined;
}
