import Database from "better-sqlite3";
import { expect, test } from "vitest";
import { withStatementCache } from "./statement-cache.js";

test("a query text is prepared once and its statement reused; past the bound the oldest is prepared again", () => {
  const database = new Database(":memory:");
  let prepared = 0;
  const prepare = database.prepare.bind(database);
  database.prepare = ((sql: string) => {
    prepared += 1;
    return prepare(sql);
  }) as typeof database.prepare;
  const cached = withStatementCache(database);
  cached.prepare("create table t (id integer primary key, v text)").run([]);
  const insert = cached.prepare("insert into t (v) values (?)");
  for (let index = 0; index < 3; index += 1) expect(cached.prepare("insert into t (v) values (?)")).toBe(insert);
  insert.run(["a"]);
  expect(cached.prepare("select v from t where id = ?").all([1])).toEqual([{ v: "a" }]);
  expect(prepared).toBe(3);
  for (let index = 0; index < 500; index += 1) cached.prepare(`select ${index}`);
  expect(cached.prepare("insert into t (v) values (?)")).not.toBe(insert);
  cached.close();
  expect(database.open).toBe(false);
});
