import type { BatchItemResponse } from '../graph/types.ts';
import { extractLabelsResultSchema, itemLabel, LABEL_FILE_EXTENSIONS } from '../resources/item-label.ts';
import type { ResourceDef, ResourceRow } from '../resources/types.ts';
import { type ChangeRecord, type ChangeSource, replaceScopes } from '../store/apply.ts';
import {
  deletedLabelledItems,
  deleteExtractions,
  type ExtractionRecord,
  type LabelCandidate,
  labelCandidates,
  labelNames,
  writeExtractions,
} from '../store/labels.ts';
import { resolveSyncErrors } from '../store/sync-state.ts';
import {
  type CollectError,
  describeError,
  inTransaction,
  reportError,
  rowContext,
  type SyncContext,
} from './context.ts';
import { batchError } from './graph-util.ts';
import { singleObject } from './payloads.ts';

/**
 * Sensitivity labels of the files that matter, after a drive's delta round: every live file
 * exposed beyond the organization (public or external, on effective access: a file in a
 * folder shared with Anyone counts) whose content changed since its labels were last read,
 * or that was never read. Never the whole drive: files the organization alone can reach, and
 * file types that cannot carry labels, are not read.
 *
 * Cost: one POST …/extractSensitivityLabels per file, 20 per $batch, priced 2 RU like any
 * write (the RU table names no actions; this one may read the file's content and updates its
 * label metadata). At most `maxCalls` files per round; the rest follow in the next round.
 * Each batch is committed in its own transaction (labels, with history, and the extraction
 * records), so a killed run repeats at most one batch.
 */

const labelDef = itemLabel as ResourceDef<unknown>;
const BATCH = 20;
/** Files read per drive round (4,000 RU at most); a drive with more continues next round. */
export const LABEL_CALLS_PER_ROUND = 2_000;

/** 423 codes that say the labels cannot be read from this content (decryption deferred is transient). */
const LOCKED = new Set(['fileDoubleKeyEncrypted', 'fileDecryptionNotSupported']);

export interface LabelRound {
  /** extractSensitivityLabels calls made. */
  calls: number;
  /** Files whose labels were read (with or without labels). */
  read: number;
  /** Of those, files carrying at least one label. */
  labeled: number;
  /** Files recorded as unreadable (locked, another error): not retried until their content changes. */
  unreadable: number;
  /** The app may not call extractSensitivityLabels (403): recorded as an error of item_label. */
  denied: boolean;
  /** More files were waiting than one round reads. */
  more: boolean;
}

/** What one file's answer means. */
type Answer =
  | { kind: 'labels'; rows: ResourceRow[] }
  | { kind: 'unreadable'; outcome: 'locked' | 'failed'; error: CollectError }
  | { kind: 'later'; error?: CollectError }
  | { kind: 'denied'; error: CollectError };

export async function extractDriveLabels(
  ctx: SyncContext,
  driveId: string,
  source: ChangeSource,
  maxCalls = LABEL_CALLS_PER_ROUND,
): Promise<LabelRound> {
  const round: LabelRound = { calls: 0, read: 0, labeled: 0, unreadable: 0, denied: false, more: false };
  const db = ctx.store.db;
  const candidates = await labelCandidates(
    db,
    ctx.store.dialect,
    ctx.integration.id,
    driveId,
    LABEL_FILE_EXTENSIONS,
    maxCalls + 1,
  );
  round.more = candidates.length > maxCalls;
  for (let i = 0; i < Math.min(candidates.length, maxCalls) && !round.denied; i += BATCH) {
    await readBatch(ctx, driveId, source, candidates.slice(i, Math.min(i + BATCH, maxCalls)), round);
  }
  if (round.read > 0) await resolveSyncErrors(db, ctx.integration.id, 'item_label', { onlyTypeWide: true });
  await forgetDeletedFiles(ctx, driveId, source);
  return round;
}

async function readBatch(
  ctx: SyncContext,
  driveId: string,
  source: ChangeSource,
  part: LabelCandidate[],
  round: LabelRound,
): Promise<void> {
  const url = (itemId: string) =>
    `/drives/${encodeURIComponent(driveId)}/items/${encodeURIComponent(itemId)}/extractSensitivityLabels`;
  const responses = await ctx.client.batch<unknown>(
    part.map((c, j) => ({ id: String(j), method: 'POST' as const, url: url(c.itemId), resource: 'labels' })),
  );
  round.calls += part.length;
  const answers = part.map((c, j) => answerOf(ctx, driveId, c.itemId, url(c.itemId), responses[j]));
  const denied = answers.find((a) => a.kind === 'denied');
  if (denied) {
    round.denied = true;
    await reportError(ctx, denied.error);
  }
  const ids = answers.flatMap((a) => (a.kind === 'labels' ? a.rows.map((r) => r.id) : []));
  const names = await labelNames(ctx.store.db, ctx.integration.id, ids);
  const scope = `drive:${driveId}`;
  const sets: Array<{ scope: Record<string, string>; rows: ResourceRow[] }> = [];
  const records: ExtractionRecord[] = [];
  const errors: CollectError[] = [];
  const fine: string[] = [];
  answers.forEach((a, j) => {
    const { itemId, contentTag } = part[j];
    if (a.kind === 'labels') {
      for (const r of a.rows) Object.assign(r, { label_name: names.get(r.id) ?? null, c_tag: contentTag });
      sets.push({ scope: { drive_id: driveId, item_id: itemId }, rows: a.rows });
      records.push({ itemId, contentTag, outcome: a.rows.length > 0 ? 'labeled' : 'unlabeled' });
      fine.push(itemId);
      round.read++;
      if (a.rows.length > 0) round.labeled++;
    } else if (a.kind === 'unreadable') {
      // The labels as last read stay: the file is not read again until its content changes.
      records.push({
        itemId,
        contentTag,
        outcome: a.outcome,
        errorCode: a.error.code,
        errorMessage: a.error.message,
      });
      errors.push(a.error);
      round.unreadable++;
    } else if (a.kind === 'later' && a.error) errors.push(a.error);
  });
  await inTransaction(ctx, source, async (actx): Promise<ChangeRecord[]> => {
    for (const set of sets) for (const r of set.rows) r.extracted_at = actx.now;
    const changes = await replaceScopes(actx, labelDef, sets);
    await writeExtractions(actx, driveId, records);
    for (const e of errors) await reportError(ctx, e, actx.db);
    for (const itemId of fine)
      await resolveSyncErrors(actx.db, ctx.integration.id, 'item_label', { resourceId: itemId, scope });
    return changes;
  });
}

/** One sub-response as labels, an unreadable file, a file to try again later, or a denial. */
function answerOf(
  ctx: SyncContext,
  driveId: string,
  itemId: string,
  url: string,
  res: BatchItemResponse<unknown>,
): Answer {
  const scope = `drive:${driveId}`;
  const fail = () => batchError(res, 'labels', url);
  if (res.status === 404) return { kind: 'later' }; // gone since the delta round: its removal follows
  if (res.status === 403) return { kind: 'denied', error: describeError(fail(), 'item_label') };
  const itemError = (err: ReturnType<typeof fail>) =>
    describeError(err, 'item_label', { resourceId: itemId, scope });
  if (res.status === 423) {
    const err = fail();
    // fileDecryptionDeferred: "label extraction will be performed after some time".
    return LOCKED.has(err.code)
      ? { kind: 'unreadable', outcome: 'locked', error: itemError(err) }
      : { kind: 'later', error: itemError(err) };
  }
  if (res.status >= 500 || res.status === 429) return { kind: 'later', error: itemError(fail()) };
  if (res.status < 200 || res.status >= 300)
    return { kind: 'unreadable', outcome: 'failed', error: itemError(fail()) };
  const invalid = (message: string): Answer => ({
    kind: 'unreadable',
    outcome: 'failed',
    error: {
      resourceType: 'item_label',
      resourceId: itemId,
      scope,
      code: 'invalidPayload',
      message: `drive ${driveId} item ${itemId}: unexpected extractSensitivityLabels answer: ${message}`,
      requestId: res.headers?.['request-id'] ?? null,
    },
  });
  const result = extractLabelsResultSchema.safeParse(singleObject(res.body));
  if (!result.success) return invalid('no labels list');
  const rows: ResourceRow[] = [];
  for (const raw of result.data.labels ?? []) {
    const parsed = itemLabel.schema.safeParse(raw);
    if (!parsed.success) return invalid('a label without sensitivityLabelId');
    rows.push(itemLabel.toRow(parsed.data, rowContext(ctx, { drive_id: driveId, item_id: itemId })));
  }
  return { kind: 'labels', rows };
}

/** Deleted files lose their labels (tombstoned, with history) and extraction records. */
async function forgetDeletedFiles(ctx: SyncContext, driveId: string, source: ChangeSource): Promise<void> {
  const gone = await deletedLabelledItems(ctx.store.db, ctx.integration.id, driveId);
  for (let i = 0; i < gone.length; i += 200) {
    const part = gone.slice(i, i + 200);
    await inTransaction(ctx, source, async (actx) => {
      const changes = await replaceScopes(
        actx,
        labelDef,
        part.map((itemId) => ({ scope: { drive_id: driveId, item_id: itemId }, rows: [] })),
      );
      await deleteExtractions(actx, driveId, part);
      return changes;
    });
  }
}
