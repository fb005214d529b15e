import type { Kysely, Selectable } from 'kysely';
import { inLists, pow2Chunks } from '../store/apply.ts';
import { type Dialect, encodeValue } from '../store/codec.ts';
import type { Database } from '../store/schema.ts';
import type { FindingInput, FindingResult, FindingsTable } from '../store/tables/rules.ts';
import type { RuleDefinition } from './definition.ts';
import { type EventSubject, eventOf, type FindingEventInput, insertEvents } from './finding-events.ts';
import type { RuleRow } from './run-rule.ts';
import { matchSuppression, type Suppression } from './suppressions.ts';

/**
 * Findings: one row per integration, rule and resource the rule alarmed or errored on,
 * keyed by resource_key = [drive_id/][item_id/]resource_id. An evaluation's results for a
 * rule become transitions, each written with an event in the same transaction:
 * new → opened (or suppressed when a suppression holds it); resolved → reopened (same row);
 * open and no longer alarmed (among the resources the evaluation covered) → resolved;
 * result or severity different → changed. Engine-made errors about the data (availability.ts)
 * are keyed `integration:<id>` and `drive:<id>`.
 */

/** One finding an evaluation (or a detector) reports (store/tables/rules.ts, shared with anomalies/). */
export type { FindingInput };

export const ENGINE_KEY_PREFIXES = ['integration:', 'drive:'] as const;
export const isEngineKey = (key: string) => ENGINE_KEY_PREFIXES.some((p) => key.startsWith(p));

/** The key of a rule row: permission drive/item/id, item drive/id, anything else its id. */
export function resourceKey(
  type: RuleDefinition['resource_type'],
  row: Pick<RuleRow, 'resource_id' | 'drive_id' | 'item_id'>,
): string {
  if (type === 'permission') return `${row.drive_id}/${row.item_id}/${row.resource_id}`;
  if (type === 'drive_item') return `${row.drive_id}/${row.resource_id}`;
  return row.resource_id;
}

export function findingFromRow(rule: RuleDefinition, row: RuleRow): FindingInput {
  return {
    key: resourceKey(rule.resource_type, row),
    resource_type: rule.resource_type,
    resource_id: row.resource_id,
    drive_id: row.drive_id,
    item_id: row.item_id,
    result: row.status as FindingResult,
    severity: row.severity ?? rule.severity,
    reason: row.reason,
    details: row.details,
    resource_name: row.resource_name,
    resource_path: row.resource_path,
    resource_owner: row.resource_owner,
  };
}

/** What one rule's evaluation said for one integration. */
export interface RuleOutcome {
  rule: Pick<RuleDefinition, 'id'>;
  /** Alarm and error results by key. */
  results: Map<string, FindingInput>;
  /**
   * The resources the evaluation looked at: 'all' (full run: every unresolved finding not in
   * results resolves) or the keys of the unresolved findings in scope.
   */
  covers: 'all' | Set<string>;
}

export interface OutcomeCounts {
  opened: number;
  reopened: number;
  resolved: number;
  suppressed: number;
  changed: number;
}

export const noCounts = (): OutcomeCounts => ({
  opened: 0,
  reopened: 0,
  resolved: 0,
  suppressed: 0,
  changed: 0,
});

export function addCounts(a: OutcomeCounts, b: OutcomeCounts): OutcomeCounts {
  return {
    opened: a.opened + b.opened,
    reopened: a.reopened + b.reopened,
    resolved: a.resolved + b.resolved,
    suppressed: a.suppressed + b.suppressed,
    changed: a.changed + b.changed,
  };
}

type Stored = Omit<FindingsTable, 'id'> & { id: number };

export interface ApplyOptions {
  db: Kysely<Database>;
  dialect: Dialect;
  integrationId: string;
  now: string;
  suppressions: readonly Suppression[];
}

/** Turns one rule's outcome into finding changes and events (inside the caller's transaction). */
export async function applyOutcome(o: ApplyOptions, outcome: RuleOutcome): Promise<OutcomeCounts> {
  const counts = noCounts();
  const existing = await loadExisting(o, outcome);
  const events: FindingEventInput[] = [];
  const inserts: FindingInput[] = [];
  const seen: number[] = [];
  for (const input of outcome.results.values()) {
    const f = existing.get(input.key);
    if (!f) {
      inserts.push(input);
      continue;
    }
    const subject = { ...f, ...pick(input) };
    const hold = f.status === 'suppressed' ? null : matchSuppression(o.suppressions, subject, o.now);
    const status = f.status === 'suppressed' ? 'suppressed' : hold ? 'suppressed' : 'open';
    const differs = changedFields(f, input);
    if (f.status === 'resolved' || differs || status !== f.status) {
      await o.db
        .updateTable('findings')
        .set({
          ...rowValues(o, input),
          status,
          suppression_id: status === 'suppressed' ? (hold?.id ?? f.suppression_id) : null,
          last_seen: o.now,
          resolved_at: null,
        })
        .where('id', '=', f.id)
        .execute();
    } else seen.push(f.id);
    if (f.status === 'resolved') {
      events.push(eventOf(subject, hold ? 'suppressed' : 'reopened', o.now, hold?.actor ?? null));
      counts[hold ? 'suppressed' : 'reopened']++;
      continue;
    }
    if (f.result !== input.result || f.severity !== input.severity) {
      events.push(eventOf(subject, 'changed', o.now));
      counts.changed++;
    }
    if (hold) {
      events.push(eventOf(subject, 'suppressed', o.now, hold.actor));
      counts.suppressed++;
    }
  }

  const resolve: Stored[] = [];
  for (const f of existing.values()) {
    if (f.status === 'resolved' || outcome.results.has(f.resource_key)) continue;
    if (outcome.covers === 'all' || outcome.covers.has(f.resource_key)) resolve.push(f);
  }
  for (const part of pow2Chunks(resolve, 512))
    await o.db
      .updateTable('findings')
      .set({ status: 'resolved', resolved_at: o.now, suppression_id: null })
      .where(
        'id',
        'in',
        part.map((f) => f.id),
      )
      .execute();
  for (const f of resolve) events.push(eventOf(f as EventSubject, 'resolved', o.now));
  counts.resolved += resolve.length;
  // Seen again unchanged: one statement over the rule when the evaluation covered everything.
  if (outcome.covers === 'all' && seen.length > 0)
    await o.db
      .updateTable('findings')
      .set({ last_seen: o.now })
      .where('integration_id', '=', o.integrationId)
      .where('rule_id', '=', outcome.rule.id)
      .where('status', '<>', 'resolved')
      .where('last_seen', '<>', o.now)
      .execute();
  else
    for (const part of pow2Chunks(seen, 512))
      await o.db.updateTable('findings').set({ last_seen: o.now }).where('id', 'in', part).execute();

  for (const part of pow2Chunks(inserts, 128)) {
    const rows = part.map((input) => {
      const hold = matchSuppression(
        o.suppressions,
        { id: -1, integration_id: o.integrationId, rule_id: outcome.rule.id, ...pick(input) },
        o.now,
      );
      return {
        integration_id: o.integrationId,
        rule_id: outcome.rule.id,
        resource_type: input.resource_type,
        resource_key: input.key,
        ...rowValues(o, input),
        status: hold ? ('suppressed' as const) : ('open' as const),
        first_seen: o.now,
        last_seen: o.now,
        resolved_at: null,
        suppression_id: hold?.id ?? null,
      };
    });
    const ids = await o.db.insertInto('findings').values(rows).returning(['id', 'resource_key']).execute();
    const byKey = new Map(ids.map((r) => [r.resource_key, Number(r.id)]));
    for (const r of rows) {
      const subject: EventSubject = { ...r, id: byKey.get(r.resource_key) as number };
      const held = r.status === 'suppressed';
      events.push(
        eventOf(
          subject,
          held ? 'suppressed' : 'opened',
          o.now,
          held ? (o.suppressions.find((s) => s.id === r.suppression_id)?.actor ?? null) : null,
        ),
      );
      counts[held ? 'suppressed' : 'opened']++;
    }
  }
  await insertEvents(o.db, events);
  return counts;
}

function pick(input: FindingInput) {
  return {
    resource_id: input.resource_id,
    resource_name: input.resource_name,
    resource_path: input.resource_path,
    resource_type: input.resource_type,
    result: input.result,
    severity: input.severity,
    reason: input.reason,
  };
}

function rowValues(o: ApplyOptions, input: FindingInput) {
  return {
    resource_id: input.resource_id,
    drive_id: input.drive_id,
    item_id: input.item_id,
    result: input.result,
    severity: input.severity,
    reason: input.reason,
    details: encodeValue('json', input.details, o.dialect),
    resource_name: input.resource_name,
    resource_path: input.resource_path,
    resource_owner: input.resource_owner,
  };
}

function changedFields(f: Stored, input: FindingInput): boolean {
  return (
    f.result !== input.result ||
    f.severity !== input.severity ||
    f.reason !== input.reason ||
    f.resource_name !== input.resource_name ||
    f.resource_path !== input.resource_path ||
    f.resource_owner !== input.resource_owner ||
    f.drive_id !== input.drive_id ||
    f.item_id !== input.item_id ||
    JSON.stringify(decodeDetails(f.details)) !== JSON.stringify(input.details)
  );
}

function decodeDetails(v: unknown): unknown {
  if (typeof v === 'string') {
    try {
      return JSON.parse(v);
    } catch {
      return v;
    }
  }
  return v ?? {};
}

/** The findings the outcome can touch: those of its result keys, and the unresolved ones it covers. */
async function loadExisting(o: ApplyOptions, outcome: RuleOutcome): Promise<Map<string, Stored>> {
  const out = new Map<string, Stored>();
  const base = () =>
    o.db
      .selectFrom('findings')
      .selectAll()
      .where('integration_id', '=', o.integrationId)
      .where('rule_id', '=', outcome.rule.id);
  const add = (rows: Selectable<FindingsTable>[]) => {
    for (const r of rows)
      out.set(r.resource_key, {
        ...r,
        id: Number(r.id),
        suppression_id: r.suppression_id === null ? null : Number(r.suppression_id),
      });
  };
  let keys: string[];
  if (outcome.covers === 'all') {
    add(await base().where('status', '<>', 'resolved').execute());
    // The other results are new, or reopen a resolved finding (looked up only when there are any).
    const anyResolved = await base()
      .select('id')
      .where('status', '=', 'resolved')
      .limit(1)
      .executeTakeFirst();
    keys = anyResolved ? [...outcome.results.keys()].filter((k) => !out.has(k)) : [];
  } else keys = [...new Set([...outcome.results.keys(), ...outcome.covers])];
  for (const part of inLists(keys)) add(await base().where('resource_key', 'in', part).execute());
  return out;
}
