import type { ColumnDef, ColumnKind, ResourceDef } from '../../resources/types.ts';
import { MAX_PARAMS, MAX_ROWS, pow2Floor } from './batching.ts';

/** What the statements of one resource table need, derived once per resource definition. */
export interface TableMeta {
  def: ResourceDef<unknown>;
  table: string;
  scopeCols: string[];
  typed: Array<[string, ColumnDef]>;
  /** Columns written by an upsert, in order, with their kinds. */
  insertCols: Array<[string, ColumnKind]>;
  rowsPerChunk: number;
}

const metaCache = new WeakMap<object, TableMeta>();

export function metaOf(def: ResourceDef<unknown>): TableMeta {
  let meta = metaCache.get(def);
  if (!meta) {
    const scopeCols = def.key.filter((k) => k !== 'id');
    const typed = Object.entries(def.columns).filter(([n]) => !def.key.includes(n));
    const insertCols: Array<[string, ColumnKind]> = [
      ['integration_id', 'text'],
      ['tenant_id', 'text'],
      ...scopeCols.map((c): [string, ColumnKind] => [c, 'text']),
      ['id', 'text'],
      ...typed.map(([n, c]): [string, ColumnKind] => [n, c.kind]),
      ['first_seen', 'timestamp'],
      ['last_seen', 'timestamp'],
      ['deleted_at', 'timestamp'],
      ['raw', 'json'],
    ];
    meta = {
      def,
      table: def.table,
      scopeCols,
      typed,
      insertCols,
      rowsPerChunk: pow2Floor(Math.min(MAX_ROWS, Math.floor(MAX_PARAMS / insertCols.length))),
    };
    metaCache.set(def, meta);
  }
  return meta;
}

/** The scope columns' values of a row as one string (a map key). */
export function scopeKey(scopeCols: string[], row: Record<string, unknown>): string {
  return scopeCols.map((c) => String(row[c])).join('\u0000');
}

export function scopeOf(scopeCols: string[], row: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of scopeCols) out[c] = String(row[c]);
  return out;
}
