import type Database from "better-sqlite3";

/**
 * Prepares each SQL text once per connection: preparing is a parse on the event loop, and per
 * call it showed in profiles. Returns the lookup the SQLite repository and outbox query through.
 */
export function statementCache(db: Database.Database): (sql: string) => Database.Statement {
  const statements = new Map<string, Database.Statement>();
  return (sql) => {
    let statement = statements.get(sql);
    if (statement === undefined) {
      statement = db.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };
}
