import { type AnyDb, exec, isPostgres } from './sql-v1.ts';

/**
 * 0330 — storage policies and pack scores (src/rules/storage-policies.ts, src/rules/packs.ts).
 * A storage policy limits the used bytes of the drives of a user or of a group's transitive
 * members, in bytes or as a percent of each drive's quota; one policy per scope. A pack score
 * is one row per evaluation of a compliance pack for an integration. Frozen once shipped.
 */
export async function up(db: AnyDb): Promise<void> {
  const pg = isPostgres(db);
  const serial = pg ? 'bigserial primary key' : 'integer primary key autoincrement';
  const real = pg ? 'double precision' : 'real';
  const big = pg ? 'bigint' : 'integer';
  const json = pg ? 'jsonb' : 'text';
  const ts = pg ? 'timestamptz' : 'text';

  await exec(
    db,
    `create table storage_policies (
      id ${serial},
      integration_id text not null,
      scope_kind text not null check (scope_kind in ('user', 'group')),
      scope_id text not null,
      limit_bytes ${big} check (limit_bytes > 0),
      limit_percent ${real} check (limit_percent > 0 and limit_percent <= 100),
      warning_threshold ${real} not null,
      violation_threshold ${real} not null,
      description text,
      created_at ${ts} not null,
      created_by text,
      unique (integration_id, scope_kind, scope_id),
      check ((limit_bytes is null) <> (limit_percent is null)),
      check (warning_threshold > 0 and warning_threshold <= violation_threshold)
    )`,
  );
  await exec(
    db,
    `create table pack_scores (
      id ${serial},
      integration_id text not null,
      pack_id text not null,
      at ${ts} not null,
      passing integer not null,
      evaluated integer not null,
      details ${json} not null
    )`,
  );
  await exec(db, 'create index pack_scores_recent on pack_scores (integration_id, pack_id, id)');
}

export async function down(db: AnyDb): Promise<void> {
  for (const table of ['pack_scores', 'storage_policies']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
