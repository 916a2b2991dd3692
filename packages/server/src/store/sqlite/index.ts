export { createSqliteStore, type SqliteStoreConfig } from "./sqlite-store.js";
