import {
  type AnyDb,
  colV1 as col,
  createResourceTableV1,
  exec,
  isPostgres,
  type ResourceTableV1,
} from './sql-v1.ts';

/**
 * 0320 — sensitivity labels: item_labels (one row per file and label, src/resources/item-label.ts),
 * sensitivity_labels (the tenant's label catalogue, src/resources/sensitivity-label.ts),
 * label_extractions (per file: which content its labels were read for and how that went, so a
 * file is read again only when its content changed) and the rule helper dw_in_nocase
 * (src/store/dialect.ts; SQLite registers it on every connection). Frozen once shipped.
 */
const ITEM_LABELS: ResourceTableV1 = {
  key: ['drive_id', 'item_id', 'id'],
  columns: [
    ['label_name', 'text'],
    ['assignment_method', 'text'],
    ['label_tenant_id', 'text'],
    ['c_tag', 'text'],
    ['extracted_at', 'timestamp'],
  ],
};

const SENSITIVITY_LABELS: ResourceTableV1 = {
  key: ['id'],
  columns: [
    ['name', 'text'],
    ['description', 'text'],
    ['color', 'text'],
    ['priority', 'integer'],
    ['sensitivity', 'integer'],
    ['tooltip', 'text'],
    ['is_enabled', 'boolean'],
    ['is_appliable', 'boolean'],
    ['has_protection', 'boolean'],
    ['applicable_to', 'text'],
    ['parent_id', 'text'],
  ],
};

export async function up(db: AnyDb): Promise<void> {
  const pg = isPostgres(db);
  await createResourceTableV1(db, 'item_labels', ITEM_LABELS);
  await createResourceTableV1(db, 'sensitivity_labels', SENSITIVITY_LABELS);
  await exec(
    db,
    `create table label_extractions (
      ${col('integration_id', 'text', pg, true)},
      ${col('drive_id', 'text', pg, true)},
      ${col('item_id', 'text', pg, true)},
      ${col('c_tag', 'text', pg)},
      ${col('extracted_at', 'timestamp', pg, true)},
      ${col('outcome', 'text', pg, true)},
      ${col('error_code', 'text', pg)},
      ${col('error_message', 'text', pg)},
      primary key (integration_id, drive_id, item_id)
    )`,
  );
  if (pg) {
    await exec(
      db,
      `create function dw_in_nocase(value text, variadic candidates text[]) returns integer
       language sql immutable parallel safe
       as $$ select case when value is not null and exists (
         select 1 from unnest(candidates) c where lower(c) = lower(value)) then 1 else 0 end $$`,
    );
  }
}

export async function down(db: AnyDb): Promise<void> {
  if (isPostgres(db)) await exec(db, 'drop function if exists dw_in_nocase(text, text[])');
  for (const table of ['label_extractions', 'sensitivity_labels', 'item_labels'])
    await db.schema.dropTable(table).ifExists().execute();
}
