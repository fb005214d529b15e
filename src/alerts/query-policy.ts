import { createHash, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { AlertOutbox } from '../queue/alert-outbox.ts';
import { decodeValue, encodeValue } from '../store/codec.ts';
import type { Database } from '../store/schema.ts';
import type { Store } from '../store/store.ts';
import { outboxRows } from './compose.ts';
import type { AppLinks } from './links.ts';
import type { AlertItem, AlertMessage } from './message.ts';
import type { Policy } from './policy-repo.ts';

/**
 * Query policies: a saved query's result watched for change. On a routing pass at least
 * `everySeconds` after its last run, the policy's query runs (read-only, in the query
 * process); its rows become keys (a hash of the key columns, or of the whole row); against
 * the keys of the last result, rows added and removed make ONE alert ("query <name>: N rows
 * added, M removed") with the top rows. The new result and the alert's outbox rows are
 * written in one transaction: a crash before it runs the query again and alerts once, after
 * it never again. The first run only records the baseline.
 */

export type QueryPolicy = Extract<Policy, { kind: 'query' }>;

/** Runs a saved query by name (the app wires src/query's saved queries in: alerts may not import query). */
export type SavedQueryRunner = (
  name: string,
  params: Record<string, string | number | boolean>,
) => Promise<{ columns: string[]; rows: Array<Record<string, unknown>>; truncated: boolean }>;

export interface QueryRouteOptions {
  store: Store;
  outbox: AlertOutbox;
  links: AppLinks;
  topItems: number;
  runQuery: SavedQueryRunner;
}

export interface QueryRouteResult {
  /** Whether the query ran (it was due). */
  ran: boolean;
  added: number;
  removed: number;
  /** Outbox rows written. */
  deliveries: number;
}

/** A row as one line: `column=value` pairs, cut to 200 characters. */
function summaryOf(columns: string[], row: Record<string, unknown>): string {
  const text = columns
    .map(
      (c) =>
        `${c}=${row[c] === null || row[c] === undefined ? '' : typeof row[c] === 'object' ? JSON.stringify(row[c]) : String(row[c])}`,
    )
    .join(', ');
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}

/** Row key → summary; rows with the same key are one row. */
export function keyRows(
  columns: string[],
  rows: Array<Record<string, unknown>>,
  keyColumns: readonly string[],
): Map<string, string> {
  const missing = keyColumns.filter((c) => !columns.includes(c));
  if (missing.length)
    throw new Error(`key column ${missing.join(', ')} is not in the query's result (${columns.join(', ')})`);
  const keyOf = keyColumns.length ? keyColumns : columns;
  const out = new Map<string, string>();
  for (const row of rows) {
    const key = createHash('sha256')
      .update(JSON.stringify(keyOf.map((c) => row[c] ?? null)))
      .digest('base64url')
      .slice(0, 22);
    if (!out.has(key)) out.set(key, summaryOf(columns, row));
  }
  return out;
}

export function fingerprintOf(keys: Iterable<string>): string {
  return createHash('sha256')
    .update([...keys].sort().join('\n'))
    .digest('hex');
}

interface State {
  fingerprint: string | null;
  keys: Map<string, string>;
  lastRunAt: string | null;
}

async function readState(db: Kysely<Database>, policyId: string): Promise<State | null> {
  const row = await db
    .selectFrom('alert_query_state')
    .selectAll()
    .where('policy_id', '=', policyId)
    .executeTakeFirst();
  if (!row) return null;
  const keys = (decodeValue('json', row.row_keys) as Record<string, string> | null) ?? {};
  return { fingerprint: row.fingerprint, keys: new Map(Object.entries(keys)), lastRunAt: row.last_run_at };
}

async function writeState(
  store: Store,
  db: Kysely<Database>,
  policyId: string,
  values: {
    fingerprint: string | null;
    keys: Map<string, string>;
    lastRunAt: string;
    lastError: string | null;
  },
): Promise<void> {
  const row = {
    fingerprint: values.fingerprint,
    row_keys: encodeValue('json', Object.fromEntries(values.keys), store.dialect),
    row_count: values.keys.size,
    last_run_at: values.lastRunAt,
    last_error: values.lastError,
    updated_at: values.lastRunAt,
  };
  await db
    .insertInto('alert_query_state')
    .values({ policy_id: policyId, ...row })
    .onConflict((oc) => oc.column('policy_id').doUpdateSet(row))
    .execute();
}

function queryItem(
  policy: QueryPolicy,
  event: 'added' | 'removed',
  key: string,
  summary: string,
  index: number,
  nowIso: string,
): AlertItem {
  return {
    source: 'query',
    sourceId: index,
    event,
    severity: policy.severity,
    title: `Row ${event}`,
    ruleId: null,
    detector: policy.name,
    integration: '',
    resourceType: 'query row',
    resourceId: key,
    resourceName: summary,
    resourcePath: null,
    owner: null,
    resourceUrl: null,
    changed: `row ${event}: ${summary}`,
    reason: `saved query ${policy.filter.query}`,
    actor: null,
    at: nowIso,
    appUrl: null,
  };
}

/** The alert for a changed result: added rows first, then removed ones, at most `topItems`. */
export function queryMessage(
  policy: QueryPolicy,
  added: Array<[string, string]>,
  removed: Array<[string, string]>,
  topItems: number,
  links: AppLinks,
  nowIso: string,
): AlertMessage {
  const items = [
    ...added.map(([k, s], i) => queryItem(policy, 'added', k, s, i, nowIso)),
    ...removed.map(([k, s], i) => queryItem(policy, 'removed', k, s, added.length + i, nowIso)),
  ].slice(0, topItems);
  const count = added.length + removed.length;
  return {
    id: randomUUID(),
    policy: policy.name,
    kind: 'alert',
    title: `query ${policy.filter.query}: ${added.length} row${added.length === 1 ? '' : 's'} added, ${removed.length} removed`,
    severity: policy.severity,
    count,
    bySeverity: { [policy.severity]: count },
    items,
    digestReason: null,
    appUrl: links.query(policy.filter.query),
    createdAt: nowIso,
  };
}

/** Runs the policy's query when due and alerts on a changed result. */
export async function routeQueryPolicy(
  o: QueryRouteOptions,
  policy: QueryPolicy,
  now: Date,
): Promise<QueryRouteResult> {
  const none = { ran: false, added: 0, removed: 0, deliveries: 0 };
  const nowIso = now.toISOString();
  const before = await readState(o.store.db, policy.id);
  const due =
    !before?.lastRunAt || now.getTime() - Date.parse(before.lastRunAt) >= policy.filter.everySeconds * 1000;
  if (!due) return none;
  let keys: Map<string, string>;
  try {
    const result = await o.runQuery(policy.filter.query, policy.filter.params);
    keys = keyRows(result.columns, result.rows, policy.filter.keyColumns);
  } catch (err) {
    // Kept with the last good result, so the next good run compares against it.
    await writeState(o.store, o.store.db, policy.id, {
      fingerprint: before?.fingerprint ?? null,
      keys: before?.keys ?? new Map(),
      lastRunAt: nowIso,
      lastError: (err as Error).message,
    });
    throw err;
  }
  const fingerprint = fingerprintOf(keys.keys());
  return o.store.db.transaction().execute(async (trx) => {
    // Touching the row first locks it (PostgreSQL row lock, SQLite write lock), then it is read
    // again: another router may have routed this result meanwhile.
    await trx
      .updateTable('alert_query_state')
      .set({ updated_at: nowIso })
      .where('policy_id', '=', policy.id)
      .execute();
    const last = await readState(trx, policy.id);
    await writeState(o.store, trx, policy.id, { fingerprint, keys, lastRunAt: nowIso, lastError: null });
    if (!last || last.fingerprint === null || last.fingerprint === fingerprint) return { ...none, ran: true };
    const added = [...keys].filter(([k]) => !last.keys.has(k));
    const removed = [...last.keys].filter(([k]) => !keys.has(k));
    if (added.length + removed.length === 0) return { ...none, ran: true };
    const message = queryMessage(policy, added, removed, o.topItems, o.links, nowIso);
    const rows = outboxRows(policy, message, nowIso);
    await o.outbox.enqueue(trx, rows);
    return { ran: true, added: added.length, removed: removed.length, deliveries: rows.length };
  });
}
