import { type AnyDb, colV1 as col, exec, isPostgres } from './sql-v1.ts';

/**
 * 0890 — exposure_daily: per integration and UTC day, live files (folders excluded) and their
 * bytes by exposure, as the service last counted them that day. The overview's trend reads
 * these rows instead of replaying every permission's life. Frozen once shipped.
 */
export async function up(db: AnyDb): Promise<void> {
  const pg = isPostgres(db);
  await exec(
    db,
    `create table exposure_daily (
      ${col('integration_id', 'text', pg, true)},
      ${col('day', 'text', pg, true)},
      ${col('public_files', 'bigint', pg, true)},
      ${col('public_bytes', 'bigint', pg, true)},
      ${col('external_files', 'bigint', pg, true)},
      ${col('external_bytes', 'bigint', pg, true)},
      ${col('internal_files', 'bigint', pg, true)},
      ${col('internal_bytes', 'bigint', pg, true)},
      ${col('private_files', 'bigint', pg, true)},
      ${col('private_bytes', 'bigint', pg, true)},
      ${col('taken_at', 'timestamp', pg, true)},
      primary key (integration_id, day)
    )`,
  );
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropTable('exposure_daily').ifExists().execute();
}
