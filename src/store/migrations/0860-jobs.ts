import { type AnyDb, exec, isPostgres } from './sql-v1.ts';

/**
 * 0860 — the job queue's helpers in the store (the queue itself is pg-boss's own schema on
 * PostgreSQL, in memory on SQLite):
 * - run_requests: "run this exclusive job again" flags. A worker that finds a drive (or another
 *   exclusive key) locked by another worker leaves a flag here instead of waiting; the holder
 *   looks after it releases, so a notification arriving during a run causes exactly one
 *   follow-up run, whichever worker does it.
 * - ru_spend: the shared RU budget's sliding-window log, one row per Graph request in the
 *   current window, per budget key (a tenant). Times are the database's clock in ms, so workers
 *   on several machines agree on them.
 * Frozen once shipped.
 */
export async function up(db: AnyDb): Promise<void> {
  const pg = isPostgres(db);
  await exec(
    db,
    `create table run_requests (
      lock_key text primary key,
      source text not null,
      requested_ms bigint not null
    )`,
  );
  await exec(
    db,
    `create table ru_spend (
      id ${pg ? 'bigserial' : 'integer'} primary key${pg ? '' : ' autoincrement'},
      budget_key text not null,
      ru integer not null,
      taken_ms bigint not null,
      done_ms bigint
    )`,
  );
  await exec(db, 'create index ru_spend_key on ru_spend (budget_key, done_ms)');
}

export async function down(db: AnyDb): Promise<void> {
  await exec(db, 'drop table if exists ru_spend');
  await exec(db, 'drop table if exists run_requests');
}
