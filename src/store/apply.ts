import { CompiledQuery, type Kysely } from 'kysely';
import type { ColumnDef, ColumnKind, ResourceDef, ResourceRow, ResourceType } from '../resources/types.ts';
import { canonical, type Dialect, decodeValue, encodeValue } from './codec.ts';
import { dialectOf } from './dialect.ts';
import type { Database } from './schema.ts';

/**
 * Upsert-with-history. Every function here runs inside a transaction the caller opened
 * (pass the transaction as `ctx.db`), so rows, history and checkpoints commit together.
 * Statements are batched (multi-row VALUES, IN lists) and their SQL text is cached.
 */

export type ChangeSource = 'full' | 'delta' | 'webhook' | 'resync' | 'poll';
export type ChangeType = 'added' | 'modified' | 'removed';

export interface ApplyContext {
  /** The open transaction (or the database for one-statement work). */
  db: Kysely<Database>;
  dialect: Dialect;
  integrationId: string;
  tenantId: string;
  source: ChangeSource;
  /** Observation time, ISO-8601 (last_seen, first_seen, deleted_at, observed_at). */
  now: string;
  /** Actor for removals (and rows whose resource has no actor mapping). */
  actor?: string | null;
  /** The tenant's verified domains (grants are classified against them); read from the integration when absent. */
  verifiedDomains?: readonly string[];
}

export interface ChangeRecord {
  resourceType: ResourceType;
  id: string;
  changeType: ChangeType;
  /** Key columns other than integration_id and id: drive_id, item_id, group_id. */
  scope: Record<string, string>;
  fields: string[];
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

export interface UpsertResult {
  changes: ChangeRecord[];
  /** The typed values each row had before (decoded), for rows that existed and were not tombstoned. */
  previous: Map<string, Record<string, unknown>>;
}

// ---------- table metadata ----------

interface TableMeta {
  def: ResourceDef<unknown>;
  table: string;
  scopeCols: string[];
  typed: Array<[string, ColumnDef]>;
  /** Columns written by an upsert, in order, with their kinds. */
  insertCols: Array<[string, ColumnKind]>;
  rowsPerChunk: number;
}

const metaCache = new WeakMap<object, TableMeta>();
const sqlCache = new Map<string, string>();

// SQLite takes 32,766 host parameters per statement, PostgreSQL 65,535.
const MAX_PARAMS = 30_000;
/** Rows (or IN-list values) per statement at most; a power of two (see pow2Chunks). */
const MAX_ROWS = 512;

function metaOf(def: ResourceDef<unknown>): TableMeta {
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

const q = (name: string) => `"${name}"`;

function placeholders(dialect: Dialect, start: number, count: number): string {
  return dialectOf(dialect).placeholders(start, count);
}

function cachedSql(key: string, build: () => string): string {
  let text = sqlCache.get(key);
  if (text === undefined) {
    text = build();
    sqlCache.set(key, text);
  }
  return text;
}

export async function run(
  db: Kysely<Database>,
  text: string,
  params: unknown[],
): Promise<{ rows: Record<string, unknown>[]; affected: number }> {
  const result = await db.executeQuery(CompiledQuery.raw(text, params));
  return {
    rows: result.rows as Record<string, unknown>[],
    affected: Number(result.numAffectedRows ?? 0n),
  };
}

/*
 * Statement shapes. A multi-row statement's text depends on its row count, and every new
 * text is compiled again (and would fill the prepared-statement cache). So statements are
 * only built for powers of two: multi-row INSERTs take parts of 2^k rows, IN lists are
 * padded to the next power of two by repeating their last value (a repeated value changes
 * nothing in an IN list). That keeps ~10 texts per statement kind and table.
 */

function pow2Floor(n: number): number {
  let p = 1;
  while (p * 2 <= n) p *= 2;
  return p;
}

function pow2Ceil(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** Consecutive parts of 2^k items, each at most `max` (a power of two), largest first. */
export function pow2Chunks<T>(items: T[], max: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; ) {
    const size = Math.min(max, pow2Floor(items.length - i));
    out.push(items.slice(i, i + size));
    i += size;
  }
  return out;
}

/** Parts of at most MAX_ROWS values, each padded to a power of two with its last value (IN lists). */
export function inLists(values: string[]): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < values.length; i += MAX_ROWS) {
    const part = values.slice(i, i + MAX_ROWS);
    const size = pow2Ceil(part.length);
    const last = part[part.length - 1];
    while (part.length < size) part.push(last);
    out.push(part);
  }
  return out;
}

/** Placeholders of an IN list of `count` values starting at parameter `start`. */
export function inList(dialect: Dialect, start: number, count: number): string {
  return placeholders(dialect, start, count);
}

function scopeKey(scopeCols: string[], row: Record<string, unknown>): string {
  return scopeCols.map((c) => String(row[c])).join('\u0000');
}

function scopeOf(scopeCols: string[], row: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of scopeCols) out[c] = String(row[c]);
  return out;
}

// ---------- reading existing rows ----------

/** Existing rows (typed columns decoded + deleted_at) of one scope, by id. */
async function selectExisting(
  ctx: ApplyContext,
  meta: TableMeta,
  scope: Record<string, string>,
  ids: string[],
): Promise<Map<string, Record<string, unknown>>> {
  const out = new Map<string, Record<string, unknown>>();
  const base = 1 + meta.scopeCols.length;
  for (const part of inLists(ids)) {
    const text = cachedSql(`sel:${meta.table}:${ctx.dialect}:${part.length}`, () => {
      const cols = ['id', 'deleted_at', ...meta.typed.map(([n]) => n)].map(q).join(', ');
      const where = [
        `integration_id = ${placeholders(ctx.dialect, 1, 1)}`,
        ...meta.scopeCols.map((c, i) => `${q(c)} = ${placeholders(ctx.dialect, 2 + i, 1)}`),
        `id in (${placeholders(ctx.dialect, base + 1, part.length)})`,
      ].join(' and ');
      return `select ${cols} from ${q(meta.table)} where ${where}`;
    });
    const params = [ctx.integrationId, ...meta.scopeCols.map((c) => scope[c]), ...part];
    const { rows } = await run(ctx.db, text, params);
    for (const r of rows) out.set(String(r.id), decodeTyped(meta, r));
  }
  return out;
}

/**
 * Every row (live or tombstoned) of the given scopes, by scope key and id: one statement
 * per group of scopes that differ only in their last scope column (the permissions of a
 * page's items: same drive, an IN list of item ids). For many small scopes.
 */
async function selectScopes(
  ctx: ApplyContext,
  meta: TableMeta,
  scopes: Array<Record<string, string>>,
): Promise<Map<string, Map<string, Record<string, unknown>>>> {
  const out = new Map<string, Map<string, Record<string, unknown>>>();
  const outerCols = meta.scopeCols.slice(0, -1);
  const lastCol = meta.scopeCols[meta.scopeCols.length - 1];
  const groups = new Map<string, { outer: Record<string, string>; lasts: string[] }>();
  for (const scope of scopes) {
    const k = scopeKey(outerCols, scope);
    let g = groups.get(k);
    if (!g) {
      g = { outer: scope, lasts: [] };
      groups.set(k, g);
    }
    g.lasts.push(scope[lastCol]);
  }
  const base = 1 + outerCols.length;
  for (const g of groups.values()) {
    for (const part of inLists([...new Set(g.lasts)])) {
      const text = cachedSql(`selscopes:${meta.table}:${ctx.dialect}:${part.length}`, () => {
        const cols = ['id', lastCol, 'deleted_at', ...meta.typed.map(([n]) => n)].map(q).join(', ');
        const where = [
          `integration_id = ${placeholders(ctx.dialect, 1, 1)}`,
          ...outerCols.map((c, i) => `${q(c)} = ${placeholders(ctx.dialect, 2 + i, 1)}`),
          `${q(lastCol)} in (${placeholders(ctx.dialect, base + 1, part.length)})`,
        ].join(' and ');
        return `select ${cols} from ${q(meta.table)} where ${where}`;
      });
      const params = [ctx.integrationId, ...outerCols.map((c) => g.outer[c]), ...part];
      const { rows } = await run(ctx.db, text, params);
      for (const r of rows) {
        const k = scopeKey(meta.scopeCols, { ...g.outer, [lastCol]: String(r[lastCol]) });
        let m = out.get(k);
        if (!m) {
          m = new Map();
          out.set(k, m);
        }
        m.set(String(r.id), decodeTyped(meta, r));
      }
    }
  }
  return out;
}

function decodeTyped(meta: TableMeta, r: Record<string, unknown>): Record<string, unknown> {
  const decoded: Record<string, unknown> = { deleted_at: decodeValue('timestamp', r.deleted_at) };
  for (const [n, c] of meta.typed) decoded[n] = decodeValue(c.kind, r[n]);
  return decoded;
}

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

function typedValues(meta: TableMeta, row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [n, c] of meta.typed) {
    if (c.volatile) continue;
    const v = normalized(c.kind, row[n]);
    if (v !== null) out[n] = v;
  }
  return out;
}

// ---------- history ----------

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

async function writeHistory(
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

// ---------- upsert ----------

/**
 * Inserts or updates rows of one resource type and records what changed: `added` for new
 * (or tombstoned, now back) rows, `modified` with the changed typed columns (volatile ones
 * excluded), nothing for unchanged rows (they only get last_seen and raw refreshed).
 * Within the batch the last row with a given key wins.
 */
export async function upsertRows(
  ctx: ApplyContext,
  def: ResourceDef<unknown>,
  rows: ResourceRow[],
): Promise<UpsertResult> {
  const meta = metaOf(def);
  const result: UpsertResult = { changes: [], previous: new Map() };
  if (rows.length === 0) return result;
  const actors = new Map<ChangeRecord, string | null>();

  // Dedupe by key (last wins) and group by scope.
  const byScope = new Map<string, Map<string, ResourceRow>>();
  for (const row of rows) {
    const sk = scopeKey(meta.scopeCols, row);
    let group = byScope.get(sk);
    if (!group) {
      group = new Map();
      byScope.set(sk, group);
    }
    group.delete(row.id);
    group.set(row.id, row);
  }

  const all: ResourceRow[] = [];
  for (const group of byScope.values()) {
    const part = [...group.values()];
    const scope = scopeOf(meta.scopeCols, part[0]);
    const existing = await selectExisting(
      ctx,
      meta,
      scope,
      part.map((r) => r.id),
    );
    diffRows(meta, scope, part, existing, result, actors);
    for (const r of part) all.push(r);
  }
  for (const part of pow2Chunks(all, meta.rowsPerChunk)) await writeRows(ctx, meta, part);
  await writeHistory(ctx, result.changes, actors);
  return result;
}

/** Change records of rows (unique ids, one scope) against what the store had (`existing`, by id). */
function diffRows(
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

async function writeRows(ctx: ApplyContext, meta: TableMeta, rows: ResourceRow[]): Promise<void> {
  const n = meta.insertCols.length;
  const text = cachedSql(`ups:${meta.table}:${ctx.dialect}:${rows.length}`, () => {
    const groups = rows.map((_, i) => `(${placeholders(ctx.dialect, 1 + i * n, n)})`);
    const conflict = ['integration_id', ...meta.def.key].map(q).join(', ');
    const updates = meta.insertCols
      .map(([c]) => c)
      .filter((c) => c !== 'integration_id' && c !== 'first_seen' && !meta.def.key.includes(c))
      .map((c) => `${q(c)} = excluded.${q(c)}`)
      .join(', ');
    return (
      `insert into ${q(meta.table)} (${meta.insertCols.map(([c]) => q(c)).join(', ')}) ` +
      `values ${groups.join(', ')} on conflict (${conflict}) do update set ${updates}`
    );
  });
  const cols = meta.insertCols;
  const params: unknown[] = new Array(rows.length * n);
  let p = 0;
  for (const row of rows) {
    for (let i = 0; i < n; i++) {
      const [c, kind] = cols[i];
      let v: unknown;
      if (c === 'integration_id') v = ctx.integrationId;
      else if (c === 'tenant_id') v = ctx.tenantId;
      else if (c === 'first_seen' || c === 'last_seen') v = ctx.now;
      else if (c === 'deleted_at') v = null;
      else v = row[c];
      params[p++] = encodeValue(kind, v, ctx.dialect);
    }
  }
  await run(ctx.db, text, params);
}

// ---------- removal ----------

/** Tombstones the rows with these ids in one scope and records `removed` (already tombstoned: no-op). */
export async function removeRows(
  ctx: ApplyContext,
  def: ResourceDef<unknown>,
  scope: Record<string, string>,
  ids: string[],
): Promise<ChangeRecord[]> {
  const meta = metaOf(def);
  const changes: ChangeRecord[] = [];
  const unique = [...new Set(ids)];
  for (let i = 0; i < unique.length; i += MAX_ROWS) {
    const part = unique.slice(i, i + MAX_ROWS);
    const existing = await selectExisting(ctx, meta, scope, part);
    changes.push(...(await tombstone(ctx, meta, scope, part, existing)));
  }
  await writeHistory(ctx, changes, new Map());
  return changes;
}

/**
 * Tombstones those of `ids` (one scope) that are live in `existing` (their stored rows, by
 * id) and returns their `removed` records in the order of `ids` (history not written).
 */
async function tombstone(
  ctx: ApplyContext,
  meta: TableMeta,
  scope: Record<string, string>,
  ids: string[],
  existing: Map<string, Record<string, unknown>>,
): Promise<ChangeRecord[]> {
  const live = ids.filter((id) => {
    const prev = existing.get(id);
    return prev !== undefined && prev.deleted_at === null;
  });
  if (live.length === 0) return [];
  const base = 3 + meta.scopeCols.length;
  for (const part of inLists(live)) {
    const text = cachedSql(`del:${meta.table}:${ctx.dialect}:${part.length}`, () => {
      const where = [
        `integration_id = ${placeholders(ctx.dialect, 2, 1)}`,
        ...meta.scopeCols.map((c, i) => `${q(c)} = ${placeholders(ctx.dialect, 3 + i, 1)}`),
        `id in (${placeholders(ctx.dialect, base, part.length)})`,
      ].join(' and ');
      return `update ${q(meta.table)} set deleted_at = ${placeholders(ctx.dialect, 1, 1)} where ${where}`;
    });
    await run(ctx.db, text, [ctx.now, ctx.integrationId, ...meta.scopeCols.map((c) => scope[c]), ...part]);
  }
  return live.map((id) => {
    const before = typedValues(meta, existing.get(id) as Record<string, unknown>);
    return {
      resourceType: meta.def.type,
      id,
      changeType: 'removed' as const,
      scope,
      fields: Object.keys(before),
      before,
      after: null,
    };
  });
}

/** Live (not tombstoned) ids in a scope, optionally only those not seen since `since`. */
async function liveIds(
  ctx: ApplyContext,
  meta: TableMeta,
  scope: Record<string, string>,
  opts: { notSeenSince?: string; afterId?: string; limit: number },
): Promise<string[]> {
  const params: unknown[] = [ctx.integrationId, ...meta.scopeCols.map((c) => scope[c])];
  const where = [
    `integration_id = ${placeholders(ctx.dialect, 1, 1)}`,
    ...meta.scopeCols.map((c, i) => `${q(c)} = ${placeholders(ctx.dialect, 2 + i, 1)}`),
    'deleted_at is null',
  ];
  if (opts.notSeenSince !== undefined) {
    params.push(opts.notSeenSince);
    where.push(`last_seen < ${placeholders(ctx.dialect, params.length, 1)}`);
  }
  if (opts.afterId !== undefined) {
    params.push(opts.afterId);
    where.push(`id > ${placeholders(ctx.dialect, params.length, 1)}`);
  }
  const text = `select id from ${q(meta.table)} where ${where.join(' and ')} order by id limit ${opts.limit}`;
  const { rows } = await run(ctx.db, text, params);
  return rows.map((r) => String(r.id));
}

/**
 * Replaces the whole set of rows in one scope (the permissions of one item, the members
 * of one group): upserts `rows`, removes every live row of the scope not among them.
 */
export async function replaceScope(
  ctx: ApplyContext,
  def: ResourceDef<unknown>,
  scope: Record<string, string>,
  rows: ResourceRow[],
): Promise<ChangeRecord[]> {
  const meta = metaOf(def);
  for (const r of rows) {
    for (const c of meta.scopeCols) {
      if (r[c] !== scope[c]) throw new Error(`${def.type} ${r.id} is outside the scope ${c}=${scope[c]}`);
    }
  }
  const { changes } = await upsertRows(ctx, def, rows);
  const keep = new Set(rows.map((r) => r.id));
  const gone: string[] = [];
  let afterId: string | undefined;
  for (;;) {
    const ids = await liveIds(ctx, meta, scope, { afterId, limit: 1000 });
    if (ids.length === 0) break;
    for (const id of ids) if (!keep.has(id)) gone.push(id);
    afterId = ids[ids.length - 1];
  }
  if (gone.length > 0) changes.push(...(await removeRows(ctx, def, scope, gone)));
  return changes;
}

/**
 * replaceScope for many small scopes at once (the permission sets of one page's items):
 * one SELECT of the scopes' rows, one multi-row upsert, one history insert. A scope given
 * twice: the later set wins. Scopes are read whole, so keep them small (not a group's
 * members: replaceScope pages through those).
 */
export async function replaceScopes(
  ctx: ApplyContext,
  def: ResourceDef<unknown>,
  sets: Array<{ scope: Record<string, string>; rows: ResourceRow[] }>,
): Promise<ChangeRecord[]> {
  const meta = metaOf(def);
  if (sets.length === 0) return [];
  if (meta.scopeCols.length === 0) throw new Error(`${def.type} has no scope to replace`);
  const byScope = new Map<string, { scope: Record<string, string>; rows: Map<string, ResourceRow> }>();
  for (const set of sets) {
    const rows = new Map<string, ResourceRow>();
    for (const r of set.rows) {
      for (const c of meta.scopeCols) {
        if (r[c] !== set.scope[c])
          throw new Error(`${def.type} ${r.id} is outside the scope ${c}=${set.scope[c]}`);
      }
      rows.delete(r.id);
      rows.set(r.id, r);
    }
    const k = scopeKey(meta.scopeCols, set.scope);
    byScope.delete(k);
    byScope.set(k, { scope: scopeOf(meta.scopeCols, set.scope), rows });
  }
  const existing = await selectScopes(
    ctx,
    meta,
    [...byScope.values()].map((s) => s.scope),
  );
  const result: UpsertResult = { changes: [], previous: new Map() };
  const actors = new Map<ChangeRecord, string | null>();
  const all: ResourceRow[] = [];
  const gone: Array<{ scope: Record<string, string>; rows: Map<string, Record<string, unknown>> }> = [];
  for (const [k, { scope, rows }] of byScope) {
    const stored = existing.get(k) ?? new Map<string, Record<string, unknown>>();
    const part = [...rows.values()];
    diffRows(meta, scope, part, stored, result, actors);
    for (const r of part) all.push(r);
    const absent = new Map<string, Record<string, unknown>>();
    for (const [id, prev] of stored) if (!rows.has(id) && prev.deleted_at === null) absent.set(id, prev);
    if (absent.size > 0) gone.push({ scope, rows: absent });
  }
  for (const part of pow2Chunks(all, meta.rowsPerChunk)) await writeRows(ctx, meta, part);
  const changes = result.changes;
  for (const g of gone) {
    const ids = [...g.rows.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    changes.push(...(await tombstone(ctx, meta, g.scope, ids, g.rows)));
  }
  await writeHistory(ctx, changes, actors);
  return changes;
}

/**
 * Reconciliation: removes every live row in a scope whose last_seen is before `since`
 * (rows a fresh enumeration started at `since` no longer returned).
 */
export async function sweepScope(
  ctx: ApplyContext,
  def: ResourceDef<unknown>,
  scope: Record<string, string>,
  since: string,
): Promise<ChangeRecord[]> {
  const meta = metaOf(def);
  const changes: ChangeRecord[] = [];
  for (;;) {
    const ids = await liveIds(ctx, meta, scope, { notSeenSince: since, limit: MAX_ROWS });
    if (ids.length === 0) break;
    changes.push(...(await removeRows(ctx, def, scope, ids)));
  }
  return changes;
}

/** Marks rows as seen now without changing them (rows Graph returned but that could not be mapped). */
export async function touchRows(
  ctx: ApplyContext,
  def: ResourceDef<unknown>,
  scope: Record<string, string>,
  ids: string[],
): Promise<void> {
  const meta = metaOf(def);
  for (const part of inLists([...new Set(ids)])) {
    const base = 3 + meta.scopeCols.length;
    const text = cachedSql(`touch:${meta.table}:${ctx.dialect}:${part.length}`, () => {
      const where = [
        `integration_id = ${placeholders(ctx.dialect, 2, 1)}`,
        ...meta.scopeCols.map((c, i) => `${q(c)} = ${placeholders(ctx.dialect, 3 + i, 1)}`),
        `id in (${placeholders(ctx.dialect, base, part.length)})`,
      ].join(' and ');
      return `update ${q(meta.table)} set last_seen = ${placeholders(ctx.dialect, 1, 1)} where ${where}`;
    });
    await run(ctx.db, text, [ctx.now, ctx.integrationId, ...meta.scopeCols.map((c) => scope[c]), ...part]);
  }
}
