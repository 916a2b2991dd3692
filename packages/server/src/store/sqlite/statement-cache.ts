import type Database from "better-sqlite3";
import type { SqliteDatabase } from "kysely";

/** Distinct query texts kept prepared; queries with `in (…)` lists of many lengths go past it, oldest first. */
const statementsKept = 500;

/**
 * The database as Kysely's SQLite dialect takes it, with each query text prepared once: Kysely prepares
 * every query anew, which cost more than running it on the hot paths (a preview request, an exec).
 * Statements are run to completion (`all`, `run`), never left iterating, so one is never busy when reused.
 */
export function withStatementCache(database: Database.Database): SqliteDatabase {
  const statements = new Map<string, Database.Statement>();
  return {
    close: () => {
      statements.clear();
      database.close();
    },
    prepare(sql: string) {
      let statement = statements.get(sql);
      if (statement) {
        statements.delete(sql);
      } else {
        statement = database.prepare(sql);
        if (statements.size >= statementsKept) statements.delete(statements.keys().next().value!);
      }
      statements.set(sql, statement);
      return statement;
    },
  };
}
