import {
  CreateTableCommand,
  DescribeTableCommand,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
  type CreateTableCommandInput,
  type DynamoDBClient,
} from "@aws-sdk/client-dynamodb";
import { CiabError } from "@ciab/protocol";
import { storeError } from "./dynamodb-errors.js";

/** The store's global secondary indexes; infra/src/foundation-stack.ts declares the same. */
export const tableIndexes = ["gsi1", "gsi2"] as const;
/** The attribute DynamoDB's TTL reads (epoch seconds). */
export const ttlAttribute = "ttl";

/** The table as the store needs it; the Foundation stack's table is checked against this (test/infra). */
export function tableDefinition(table: string): CreateTableCommandInput {
  const string = (name: string) => ({ AttributeName: name, AttributeType: "S" as const });
  return {
    TableName: table,
    BillingMode: "PAY_PER_REQUEST",
    KeySchema: [
      { AttributeName: "pk", KeyType: "HASH" },
      { AttributeName: "sk", KeyType: "RANGE" },
    ],
    AttributeDefinitions: [string("pk"), string("sk"), ...tableIndexes.flatMap((index) => [string(`${index}pk`), string(`${index}sk`)])],
    GlobalSecondaryIndexes: tableIndexes.map((index) => ({
      IndexName: index,
      KeySchema: [
        { AttributeName: `${index}pk`, KeyType: "HASH" },
        { AttributeName: `${index}sk`, KeyType: "RANGE" },
      ],
      Projection: { ProjectionType: "ALL" },
    })),
  };
}

/** Whether the table exists; other failures (unreachable, no rights) are thrown as typed errors. */
export async function tableExists(client: DynamoDBClient, table: string): Promise<boolean> {
  try {
    await client.send(new DescribeTableCommand({ TableName: table }));
    return true;
  } catch (error) {
    if ((error as { name?: string }).name === "ResourceNotFoundException") return false;
    throw storeError(error, table);
  }
}

/**
 * Creates the table (pay per request, both indexes, TTL) unless it exists; answers whether it created it.
 * Two processes creating it at once: the loser finds it in use and waits for it like the winner.
 */
export async function ensureTable(client: DynamoDBClient, table: string, signal?: AbortSignal): Promise<boolean> {
  if (await tableExists(client, table)) return false;
  let created = true;
  try {
    await client.send(new CreateTableCommand(tableDefinition(table)));
  } catch (error) {
    if ((error as { name?: string }).name !== "ResourceInUseException") throw storeError(error, table);
    created = false;
  }
  await waitUntilTableExists({ client, maxWaitTime: 120, ...(signal && { abortSignal: signal as never }) }, { TableName: table });
  if (created) {
    await client
      .send(new UpdateTimeToLiveCommand({ TableName: table, TimeToLiveSpecification: { AttributeName: ttlAttribute, Enabled: true } }))
      .catch((error: unknown) => {
        throw storeError(error, table);
      });
  }
  return created;
}

export function missingTableError(table: string): CiabError {
  return new CiabError(
    "store_unavailable",
    `DynamoDB table ${table} does not exist and [store] create_table is false: create it with \`ciab store init\` or deploy the Foundation stack`,
    { context: { table } },
  );
}
