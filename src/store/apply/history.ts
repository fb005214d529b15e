/** The `changes` table: one multi-row insert per batch of change records. */
import { cachedSql, MAX_PARAMS, MAX_ROWS, placeholders, pow2Chunks, pow2Floor, q, run } from './batching.ts';
import type { ApplyContext, ChangeRecord } from './types.ts';

const HISTORY_COLS = [
  'integration_id',
  'tenant_id',
  'resource_type',
  'resource_id',
  'drive_id',
  'item_id',
  'group_id',
  'change_type',
  'fields',
  'before',
  'after',
  'actor',
  'source',
  'observed_at',
];

/** Writes the records' history rows; `actors` overrides the context's actor per record. */
export async function writeHistory(
  ctx: ApplyContext,
  changes: ChangeRecord[],
  actors: Map<ChangeRecord, string | null>,
): Promise<void> {
  if (changes.length === 0) return;
  const per = pow2Floor(Math.min(MAX_ROWS, Math.floor(MAX_PARAMS / HISTORY_COLS.length)));
  for (const part of pow2Chunks(changes, per)) {
    const text = cachedSql(`hist:${ctx.dialect}:${part.length}`, () => {
      const groups = part.map(
        (_, i) => `(${placeholders(ctx.dialect, 1 + i * HISTORY_COLS.length, HISTORY_COLS.length)})`,
      );
      return `insert into changes (${HISTORY_COLS.map(q).join(', ')}) values ${groups.join(', ')}`;
    });
    const params: unknown[] = [];
    for (const c of part) {
      const driveId = c.scope.drive_id ?? (c.resourceType === 'drive' ? c.id : null);
      params.push(
        ctx.integrationId,
        ctx.tenantId,
        c.resourceType,
        c.id,
        driveId,
        c.scope.item_id ?? null,
        c.scope.group_id ?? null,
        c.changeType,
        JSON.stringify(c.fields),
        c.before === null ? null : JSON.stringify(c.before),
        c.after === null ? null : JSON.stringify(c.after),
        actors.get(c) ?? ctx.actor ?? null,
        ctx.source,
        ctx.now,
      );
    }
    await run(ctx.db, text, params);
  }
}
