/** The store side of sensitivity labels: which files need reading, extraction records, label names. */
import { type Kysely, sql } from 'kysely';
import type { ApplyContext } from './apply.ts';
import type { Dialect } from './codec.ts';
import { dialectOf } from './dialect.ts';
import type { Database } from './schema.ts';
import type { LabelOutcome } from './tables/tenant.ts';

/**
 * A file's content tag, the key of "read again when the content changed": its quickXorHash
 * when Graph gave one (it changes exactly with the content), else its cTag (missing from
 * changed items in a OneDrive for Business delta), else its eTag (changes on any change).
 */
const CONTENT_TAG = sql`coalesce('qxh:' || dw_json_text(di.raw, 'file.hashes.quickXorHash'), 'ctag:' || di.c_tag, 'etag:' || di.e_tag, '')`;

export interface LabelCandidate {
  itemId: string;
  contentTag: string;
}

/**
 * Live files of the drive exposed beyond the organization (public or external), with a
 * label-capable extension, whose labels were never read or were read for other content; at
 * most `limit`, in id order. Reads the access index (exposure implies an access root).
 */
export async function labelCandidates(
  db: Kysely<Database>,
  dialect: Dialect,
  integrationId: string,
  driveId: string,
  extensions: readonly string[],
  limit: number,
): Promise<LabelCandidate[]> {
  const no = sql.raw(dialectOf(dialect).booleanLiteral(false));
  const { rows } = await sql<{ id: string; content_tag: string }>`
    select di.id, ${CONTENT_TAG} as content_tag
    from drive_items di
    left join label_extractions le
      on le.integration_id = di.integration_id and le.drive_id = di.drive_id and le.item_id = di.id
    where di.integration_id = ${integrationId} and di.drive_id = ${driveId}
      and di.access_root_id is not null and di.exposure in ('public', 'external')
      and di.deleted_at is null and di.is_folder = ${no}
      and di.extension in (${sql.join(extensions.map((e) => sql`${e}`))})
      and (le.item_id is null or le.c_tag is null or le.c_tag <> ${CONTENT_TAG})
    order by di.id
    limit ${limit}`.execute(db);
  return rows.map((r) => ({ itemId: r.id, contentTag: r.content_tag }));
}

export interface ExtractionRecord {
  itemId: string;
  contentTag: string;
  outcome: LabelOutcome;
  errorCode?: string | null;
  errorMessage?: string | null;
}

/** Records (or replaces) how reading these files' labels went, inside the caller's transaction. */
export async function writeExtractions(
  actx: ApplyContext,
  driveId: string,
  records: ExtractionRecord[],
): Promise<void> {
  for (const r of records) {
    const values = {
      c_tag: r.contentTag,
      extracted_at: actx.now,
      outcome: r.outcome,
      error_code: r.errorCode ?? null,
      error_message: r.errorMessage ?? null,
    };
    await actx.db
      .insertInto('label_extractions')
      .values({ integration_id: actx.integrationId, drive_id: driveId, item_id: r.itemId, ...values })
      .onConflict((oc) => oc.columns(['integration_id', 'drive_id', 'item_id']).doUpdateSet(values))
      .execute();
  }
}

/** Files of the drive that are deleted but still have live labels or an extraction record. */
export async function deletedLabelledItems(
  db: Kysely<Database>,
  integrationId: string,
  driveId: string,
): Promise<string[]> {
  const { rows } = await sql<{ item_id: string }>`
    select le.item_id from label_extractions le
    join drive_items di on di.integration_id = le.integration_id and di.drive_id = le.drive_id and di.id = le.item_id
    where le.integration_id = ${integrationId} and le.drive_id = ${driveId} and di.deleted_at is not null
    union
    select il.item_id from item_labels il
    join drive_items di on di.integration_id = il.integration_id and di.drive_id = il.drive_id and di.id = il.item_id
    where il.integration_id = ${integrationId} and il.drive_id = ${driveId}
      and il.deleted_at is null and di.deleted_at is not null`.execute(db);
  return rows.map((r) => r.item_id);
}

/** Forgets the extraction records of these files (inside the caller's transaction). */
export async function deleteExtractions(
  actx: ApplyContext,
  driveId: string,
  itemIds: string[],
): Promise<void> {
  if (itemIds.length === 0) return;
  await actx.db
    .deleteFrom('label_extractions')
    .where('integration_id', '=', actx.integrationId)
    .where('drive_id', '=', driveId)
    .where('item_id', 'in', itemIds)
    .execute();
}

/** Names of these labels from the catalogue (labels it does not hold are absent). */
export async function labelNames(
  db: Kysely<Database>,
  integrationId: string,
  ids: readonly string[],
): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('sensitivity_labels')
    .select(['id', 'name'])
    .where('integration_id', '=', integrationId)
    .where('deleted_at', 'is', null)
    .where('id', 'in', [...new Set(ids)])
    .execute();
  return new Map(rows.filter((r) => r.name !== null).map((r) => [r.id, r.name as string]));
}

/** item_labels.label_name from the catalogue as it is now (a derived column: no history). */
export async function refreshItemLabelNames(db: Kysely<Database>, integrationId: string): Promise<void> {
  await db
    .updateTable('item_labels')
    .set((eb) => ({
      label_name: eb
        .selectFrom('sensitivity_labels as s')
        .select('s.name')
        .whereRef('s.integration_id', '=', 'item_labels.integration_id')
        .whereRef('s.id', '=', 'item_labels.id')
        .where('s.deleted_at', 'is', null),
    }))
    .where('integration_id', '=', integrationId)
    .execute();
}
