import type { Kysely } from 'kysely';
import type { AlertOutbox } from '../queue/alert-outbox.ts';
import type { Database } from '../store/schema.ts';
import type { Store } from '../store/store.ts';
import type { Logger } from '../util/logger.ts';
import { AlertBatch, type HeldBatch } from './batch.ts';
import { composeMessages, outboxRows } from './compose.ts';
import { type Decision, decide } from './decide.ts';
import { GapTracker } from './gaps.ts';
import type { AppLinks } from './links.ts';
import { type EventPolicy, type Policy, type PolicyRepository, sourceOf } from './policy-repo.ts';
import { routeQueryPolicy, type SavedQueryRunner } from './query-policy.ts';
import { inQuietHours } from './quiet-hours.ts';
import type { RuleCatalog } from './sources/findings.ts';
import { type SourceContext, sourceFor } from './sources/index.ts';

/**
 * The alert router: for each enabled policy, reads its source table (finding_events,
 * changes or pack_scores: ./sources/) after the policy's cursor, matches, decides (one message each, a digest, hold
 * for quiet hours or the rate limit) and writes the outbox rows, the held digest and the
 * advanced cursor in ONE transaction. A crash before the commit routes the same events
 * again; after it, never again: every event is routed exactly once per policy.
 */
export interface RouterOptions {
  store: Store;
  policies: PolicyRepository;
  outbox: AlertOutbox;
  catalog: RuleCatalog;
  links: AppLinks;
  /** Items a digest lists. */
  topItems: number;
  /** PostgreSQL: how long a missing id is waited for (./gaps.ts). */
  gapGraceMs: number;
  logger: Logger;
  now?: () => Date;
  /** Runs saved queries for query policies (none: query policies are skipped, with a warning). */
  runQuery?: SavedQueryRunner;
}

export interface RouteSummary {
  /** Source events read past the cursors (summed over policies). */
  events: number;
  /** Messages decided (alerts and digests). */
  alerts: number;
  /** Outbox rows written (alerts × channels). */
  deliveries: number;
  /** Events held back for quiet hours or a rate limit. */
  held: number;
}

const PAGE = 2000;

type HeldRow = { reason: 'quiet_hours' | 'rate_limit'; batch: HeldBatch; firstAt: string };

export class AlertRouter {
  private readonly gaps: GapTracker;
  private readonly now: () => Date;
  private running: Promise<RouteSummary> | null = null;
  private again: Promise<RouteSummary> | null = null;

  private readonly context: SourceContext;

  constructor(private readonly o: RouterOptions) {
    this.context = { catalog: o.catalog, links: o.links };
    this.gaps = new GapTracker(o.store.dialect === 'postgres', o.gapGraceMs);
    this.now = o.now ?? (() => new Date());
  }

  /** Routes every enabled policy. Calls during a run share one follow-up run. */
  route(): Promise<RouteSummary> {
    if (!this.running) {
      this.running = this.routeAll().finally(() => {
        this.running = null;
      });
      return this.running;
    }
    this.again ??= this.running
      .catch(() => undefined)
      .then(() => {
        this.again = null;
        return this.route();
      });
    return this.again;
  }

  private async routeAll(): Promise<RouteSummary> {
    const total: RouteSummary = { events: 0, alerts: 0, deliveries: 0, held: 0 };
    for (const policy of await this.o.policies.enabled()) {
      let s: RouteSummary;
      try {
        s = await this.routePolicy(policy);
      } catch (err) {
        // One policy's failure (rolled back: its events are routed next time) stops no other.
        this.o.logger.error({ policy: policy.name, err: (err as Error).message }, 'alerts: routing failed');
        continue;
      }
      total.events += s.events;
      total.alerts += s.alerts;
      total.deliveries += s.deliveries;
      total.held += s.held;
      if (s.alerts || s.held)
        this.o.logger.info(
          { policy: policy.name, ...s },
          `alerts: policy ${policy.name} routed ${s.events} events`,
        );
    }
    return total;
  }

  /** One policy, one transaction. */
  async routePolicy(policy: Policy): Promise<RouteSummary> {
    if (policy.kind === 'query') return this.routeQuery(policy);
    return this.routeEvents(policy);
  }

  /** A query policy: its saved query when due, one alert when the result changed (./query-policy.ts). */
  private async routeQuery(policy: Extract<Policy, { kind: 'query' }>): Promise<RouteSummary> {
    if (!this.o.runQuery) {
      this.o.logger.warn({ policy: policy.name }, 'alerts: no query runner; query policy not routed');
      return { events: 0, alerts: 0, deliveries: 0, held: 0 };
    }
    const r = await routeQueryPolicy(
      {
        store: this.o.store,
        outbox: this.o.outbox,
        links: this.o.links,
        topItems: this.o.topItems,
        runQuery: this.o.runQuery,
      },
      policy,
      this.now(),
    );
    return {
      events: r.added + r.removed,
      alerts: r.deliveries > 0 ? 1 : 0,
      deliveries: r.deliveries,
      held: 0,
    };
  }

  /** An event policy: its source table past the cursor, in one transaction. */
  private async routeEvents(policy: EventPolicy): Promise<RouteSummary> {
    const now = this.now();
    const nowIso = now.toISOString();
    return this.o.store.db.transaction().execute(async (trx) => {
      // Taking the cursor row first locks it (PostgreSQL row lock, SQLite write lock):
      // two routers never route the same events.
      await trx
        .updateTable('alert_cursors')
        .set({ updated_at: nowIso })
        .where('policy_id', '=', policy.id)
        .execute();
      const cursor = await trx
        .selectFrom('alert_cursors')
        .select('last_id')
        .where('policy_id', '=', policy.id)
        .executeTakeFirst();
      if (!cursor) throw new Error(`alert policy ${policy.name} has no cursor`);
      const batch = new AlertBatch(this.o.topItems, policy.digestThreshold);
      const { lastId, events } = await this.collect(
        trx,
        policy,
        Number(cursor.last_id),
        batch,
        now.getTime(),
      );
      const held = await this.readHeld(trx, policy.id);
      const allowance = policy.rateLimit
        ? policy.rateLimit.max -
          (await this.o.outbox.alertsSince(
            trx,
            policy.id,
            new Date(now.getTime() - policy.rateLimit.perSeconds * 1000).toISOString(),
          ))
        : Number.POSITIVE_INFINITY;
      const fresh = batch.count;
      if (held) batch.merge(held.batch);
      const decision = decide({
        quiet: inQuietHours(policy.quietHours, now),
        fresh,
        heldReason: held?.reason ?? null,
        total: batch.count,
        threshold: policy.digestThreshold,
        allowance,
      });
      const messages = await composeMessages(trx, policy, decision, batch, this.o.links, nowIso);
      await this.writeHeld(trx, policy.id, decision, batch, held, nowIso);
      const rows = messages.flatMap((m) => outboxRows(policy, m, nowIso));
      await this.o.outbox.enqueue(trx, rows);
      await trx
        .updateTable('alert_cursors')
        .set({ last_id: lastId, updated_at: nowIso })
        .where('policy_id', '=', policy.id)
        .execute();
      return {
        events,
        alerts: messages.length,
        deliveries: rows.length,
        held: decision.action === 'hold' ? fresh : 0,
      };
    });
  }

  /** Reads the policy's source past the cursor into the batch; returns the new cursor. */
  private async collect(
    trx: Kysely<Database>,
    policy: EventPolicy,
    from: number,
    batch: AlertBatch,
    nowMs: number,
  ): Promise<{ lastId: number; events: number }> {
    const source = sourceFor(policy);
    let lastId = from;
    let events = 0;
    for (;;) {
      const page = await source.read(trx, lastId, PAGE);
      const take = this.gaps.routable(
        `${policy.id}:${sourceOf(policy.kind)}`,
        lastId,
        page.map((r) => r.id),
        nowMs,
      );
      for (const row of page.slice(0, take)) {
        const candidate = await source.match(trx, policy, row, this.context);
        if (candidate) batch.add(candidate);
        lastId = row.id;
        events++;
      }
      if (take < page.length || page.length < PAGE) return { lastId, events };
    }
  }

  private async readHeld(trx: Kysely<Database>, policyId: string): Promise<HeldRow | null> {
    const row = await trx
      .selectFrom('alert_held')
      .selectAll()
      .where('policy_id', '=', policyId)
      .executeTakeFirst();
    if (!row) return null;
    const batch = (typeof row.digest === 'string' ? JSON.parse(row.digest) : row.digest) as HeldBatch;
    return { reason: row.reason, batch, firstAt: row.first_at };
  }

  /** Held events: replaced by the grown batch when holding, dropped once sent. */
  private async writeHeld(
    trx: Kysely<Database>,
    policyId: string,
    decision: Decision,
    batch: AlertBatch,
    held: HeldRow | null,
    nowIso: string,
  ): Promise<void> {
    if (decision.action === 'none') return;
    if (held) await trx.deleteFrom('alert_held').where('policy_id', '=', policyId).execute();
    if (decision.action !== 'hold') return;
    await trx
      .insertInto('alert_held')
      .values({
        policy_id: policyId,
        // Quiet hours win: their end sends the digest even when a rate limit held earlier events.
        reason: held?.reason === 'quiet_hours' ? 'quiet_hours' : decision.reason,
        digest: JSON.stringify(batch.held()),
        first_at: held?.firstAt ?? nowIso,
        updated_at: nowIso,
      })
      .execute();
  }
}
