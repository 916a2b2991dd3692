export { createDynamoDBStore, type DynamoDBStoreConfig } from "./dynamodb-store.js";
