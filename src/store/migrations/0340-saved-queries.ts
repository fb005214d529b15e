import { type AnyDb, exec, isPostgres } from './sql-v1.ts';

/**
 * 0340 — saved queries of the query console (src/query/saved-queries.ts): a name people run
 * it by, what it answers, the SQL (with `:name` parameters). Frozen once shipped.
 */
export async function up(db: AnyDb): Promise<void> {
  const ts = isPostgres(db) ? 'timestamptz' : 'text';
  await exec(
    db,
    `create table saved_queries (
      name text primary key,
      description text not null,
      sql text not null,
      created_at ${ts} not null,
      updated_at ${ts} not null,
      created_by text
    )`,
  );
}

export async function down(db: AnyDb): Promise<void> {
  await exec(db, 'drop table saved_queries');
}
