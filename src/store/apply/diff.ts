/** Comparing incoming rows with stored ones: the change records of an upsert. */
import type { ColumnKind, ResourceRow } from '../../resources/types.ts';
import { canonical, decodeValue, encodeValue } from '../codec.ts';
import type { TableMeta } from './table-meta.ts';
import type { ChangeRecord, UpsertResult } from './types.ts';

function normalized(kind: ColumnKind, value: unknown): unknown {
  return decodeValue(kind, encodeValue(kind, value, 'postgres'));
}

function same(kind: ColumnKind, a: unknown, b: unknown): boolean {
  if (a === null || a === undefined) return b === null || b === undefined;
  if (b === null || b === undefined) return false;
  if (kind === 'json') return canonical(a) === canonical(b);
  if (kind === 'boolean') return Boolean(a) === Boolean(b);
  if (kind === 'integer' || kind === 'bigint') return Number(a) === Number(b);
  return String(a) === String(b);
}

/** The non-volatile typed values of a row, normalized, nulls left out (history `after`/`before`). */
export function typedValues(meta: TableMeta, row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [n, c] of meta.typed) {
    if (c.volatile) continue;
    const v = normalized(c.kind, row[n]);
    if (v !== null) out[n] = v;
  }
  return out;
}

/** Change records of rows (unique ids, one scope) against what the store had (`existing`, by id). */
export function diffRows(
  meta: TableMeta,
  scope: Record<string, string>,
  rows: ResourceRow[],
  existing: Map<string, Record<string, unknown>>,
  result: UpsertResult,
  actors: Map<ChangeRecord, string | null>,
): void {
  const def = meta.def;
  for (const row of rows) {
    const prev = existing.get(row.id);
    const actor = def.actor ? def.actor(row.raw) : null;
    if (!prev || prev.deleted_at !== null) {
      const after = typedValues(meta, row);
      const change: ChangeRecord = {
        resourceType: def.type,
        id: row.id,
        changeType: 'added',
        scope,
        fields: Object.keys(after),
        before: null,
        after,
      };
      result.changes.push(change);
      actors.set(change, actor);
      continue;
    }
    result.previous.set(row.id, prev);
    const fields: string[] = [];
    const before: Record<string, unknown> = {};
    const after: Record<string, unknown> = {};
    for (const [n, c] of meta.typed) {
      if (c.volatile) continue;
      if (!same(c.kind, prev[n], row[n])) {
        fields.push(n);
        before[n] = prev[n] ?? null;
        after[n] = normalized(c.kind, row[n]);
      }
    }
    if (fields.length > 0) {
      const change: ChangeRecord = {
        resourceType: def.type,
        id: row.id,
        changeType: 'modified',
        scope,
        fields,
        before,
        after,
      };
      result.changes.push(change);
      actors.set(change, actor);
    }
  }
}
