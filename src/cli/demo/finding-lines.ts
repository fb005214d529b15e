import type { Kysely } from 'kysely';
import type { Database } from '../../store/schema.ts';

/**
 * What the demo prints about findings: the open ones by severity and rule after the first
 * evaluation, then every finding event (opened, resolved, …) as the service's rules write it.
 */

const SEVERITY_ORDER = ['critical', 'high', 'medium', 'low', 'info'];

/** "findings: 3 critical, 40 high, …" and the rules with most open findings. */
export async function findingSummary(db: Kysely<Database>, top = 8): Promise<string[]> {
  const rows = await db
    .selectFrom('findings')
    .select(['rule_id', 'severity', (eb) => eb.fn.countAll<number>().as('n')])
    .where('status', '=', 'open')
    .groupBy(['rule_id', 'severity'])
    .execute();
  const bySeverity = new Map<string, number>();
  const byRule = new Map<string, number>();
  for (const r of rows) {
    bySeverity.set(r.severity, (bySeverity.get(r.severity) ?? 0) + Number(r.n));
    byRule.set(r.rule_id, (byRule.get(r.rule_id) ?? 0) + Number(r.n));
  }
  const total = [...bySeverity.values()].reduce((a, b) => a + b, 0);
  const severities = SEVERITY_ORDER.filter((s) => bySeverity.has(s)).map((s) => `${bySeverity.get(s)} ${s}`);
  const lines = [`open findings: ${total}${severities.length ? ` (${severities.join(', ')})` : ''}`];
  for (const [rule, n] of [...byRule].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    lines.push(`  ${String(n).padStart(6)}  ${rule}`);
  }
  return lines;
}

/** The highest finding event id (the live output starts after it). */
export async function lastFindingEventId(db: Kysely<Database>): Promise<number> {
  const row = await db
    .selectFrom('finding_events')
    .select((eb) => eb.fn.max('id').as('id'))
    .executeTakeFirst();
  return Number(row?.id ?? 0);
}

/** Finding events after `afterId`, one line each, and the new last id. */
export async function findingEventLines(
  db: Kysely<Database>,
  afterId: number,
): Promise<{ lines: string[]; lastId: number }> {
  const rows = await db
    .selectFrom('finding_events as e')
    .innerJoin('findings as f', 'f.id', 'e.finding_id')
    .select(['e.id', 'e.event', 'e.severity', 'e.rule_id', 'e.reason', 'f.resource_path', 'f.resource_name'])
    .where('e.id', '>', afterId)
    .orderBy('e.id')
    .limit(100)
    .execute();
  const lines = rows.map(
    (r) =>
      `  finding ${r.event} [${r.severity}] ${r.rule_id} on ${r.resource_path ?? r.resource_name ?? '?'}: ${r.reason}`,
  );
  return { lines, lastId: rows.length ? Number(rows[rows.length - 1].id) : afterId };
}
