import type { Kysely } from 'kysely';
import type { Database } from '../../store/schema.ts';
import type { Logger } from '../../util/logger.ts';

/**
 * Live events for the web app (server-sent events), read from the database, not from the
 * process that wrote them: so they work from the server thread, and from every replica of
 * a scaled-out deployment. One poller per server, running only while someone listens, reads
 * what was appended since its cursors: finding events, inventory changes, sync-state updates
 * and alerts. Each kind is capped per tick; past the cap a `changes` summary says how many
 * were skipped (the web app re-reads its lists then).
 */
export type LiveEvent =
  | {
      type: 'finding';
      data: {
        id: number;
        findingId: number;
        integrationId: string;
        ruleId: string;
        event: string;
        severity: string;
        reason: string;
        resourceType: string;
        resourceId: string;
        resourceName: string | null;
        resourcePath: string | null;
        at: string;
      };
    }
  | {
      type: 'change';
      data: {
        id: number;
        integrationId: string;
        resourceType: string;
        action: string;
        resourceId: string;
        driveId: string | null;
        itemId: string | null;
        actor: string | null;
        source: string;
        at: string;
      };
    }
  | { type: 'changes'; data: { skipped: number; upToId: number } }
  | {
      type: 'sync';
      data: {
        integrationId: string;
        scope: string;
        phase: string;
        lastSuccessAt: string | null;
        lastError: string | null;
        at: string;
      };
    }
  | {
      type: 'alert';
      data: {
        id: number;
        title: string;
        severity: string;
        status: string;
        policyId: string;
        channelId: string;
        at: string;
      };
    };

const CAP = 100;

interface Cursors {
  findingEvent: number;
  change: number;
  alert: number;
  syncAt: string;
}

export class LiveEvents {
  private readonly listeners = new Set<(event: LiveEvent) => void>();
  private cursors: Cursors | undefined;
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly logger: Logger,
    private readonly intervalMs = 1000,
  ) {}

  /** Starts delivering events appended from now on; returns the unsubscribe function. */
  async subscribe(listener: (event: LiveEvent) => void): Promise<() => void> {
    if (!this.cursors) this.cursors = await this.currentCursors();
    this.listeners.add(listener);
    if (!this.timer) {
      this.timer = setInterval(() => void this.tick(), this.intervalMs);
      this.timer.unref();
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.cursors = undefined;
  }

  private async currentCursors(): Promise<Cursors> {
    const max = async (table: 'finding_events' | 'changes' | 'alert_outbox') => {
      const row = await this.db
        .selectFrom(table)
        .select((eb) => eb.fn.max('id').as('id'))
        .executeTakeFirst();
      return Number(row?.id ?? 0);
    };
    return {
      findingEvent: await max('finding_events'),
      change: await max('changes'),
      alert: await max('alert_outbox'),
      syncAt: new Date().toISOString(),
    };
  }

  /** One poll of every source (public for tests; skipped while the previous one runs). */
  async tick(): Promise<void> {
    const cursors = this.cursors;
    if (this.ticking || !cursors) return;
    this.ticking = true;
    try {
      for (const event of [
        ...(await this.findingEvents(cursors)),
        ...(await this.changes(cursors)),
        ...(await this.syncUpdates(cursors)),
        ...(await this.alerts(cursors)),
      ])
        for (const listener of this.listeners) listener(event);
    } catch (err) {
      this.logger.warn({ err }, 'live events: poll failed');
    } finally {
      this.ticking = false;
    }
  }

  private async findingEvents(c: Cursors): Promise<LiveEvent[]> {
    const rows = await this.db
      .selectFrom('finding_events as e')
      .leftJoin('findings as f', 'f.id', 'e.finding_id')
      .select([
        'e.id',
        'e.finding_id',
        'e.integration_id',
        'e.rule_id',
        'e.event',
        'e.severity',
        'e.reason',
        'e.resource_type',
        'e.resource_id',
        'e.at',
        'f.resource_name',
        'f.resource_path',
      ])
      .where('e.id', '>', c.findingEvent)
      .orderBy('e.id')
      .limit(CAP)
      .execute();
    if (rows.length) c.findingEvent = Number(rows[rows.length - 1].id);
    return rows.map((r) => ({
      type: 'finding',
      data: {
        id: Number(r.id),
        findingId: Number(r.finding_id),
        integrationId: r.integration_id,
        ruleId: r.rule_id,
        event: r.event,
        severity: r.severity,
        reason: r.reason,
        resourceType: r.resource_type,
        resourceId: r.resource_id,
        resourceName: r.resource_name ?? null,
        resourcePath: r.resource_path ?? null,
        at: String(r.at),
      },
    }));
  }

  private async changes(c: Cursors): Promise<LiveEvent[]> {
    const rows = await this.db
      .selectFrom('changes')
      .select([
        'id',
        'integration_id',
        'resource_type',
        'change_type',
        'resource_id',
        'drive_id',
        'item_id',
        'actor',
        'source',
        'observed_at',
      ])
      .where('id', '>', c.change)
      .orderBy('id')
      .limit(CAP + 1)
      .execute();
    if (rows.length > CAP) {
      // A collection burst: say how many, move to the newest, let the clients re-read.
      const newest = await this.db
        .selectFrom('changes')
        .select((eb) => eb.fn.max('id').as('id'))
        .executeTakeFirst();
      const upTo = Number(newest?.id ?? c.change);
      const skipped = upTo - c.change;
      c.change = upTo;
      return [{ type: 'changes', data: { skipped, upToId: upTo } }];
    }
    if (rows.length) c.change = Number(rows[rows.length - 1].id);
    return rows.map((r) => ({
      type: 'change',
      data: {
        id: Number(r.id),
        integrationId: r.integration_id,
        resourceType: r.resource_type,
        action: r.change_type,
        resourceId: r.resource_id,
        driveId: r.drive_id,
        itemId: r.item_id,
        actor: r.actor,
        source: r.source,
        at: String(r.observed_at),
      },
    }));
  }

  private async syncUpdates(c: Cursors): Promise<LiveEvent[]> {
    const rows = await this.db
      .selectFrom('sync_state')
      .select(['integration_id', 'scope', 'phase', 'last_success_at', 'last_error_message', 'updated_at'])
      .where('updated_at', '>', c.syncAt)
      .orderBy('updated_at')
      .limit(CAP)
      .execute();
    if (rows.length) c.syncAt = String(rows[rows.length - 1].updated_at);
    return rows.map((r) => ({
      type: 'sync',
      data: {
        integrationId: r.integration_id,
        scope: r.scope,
        phase: r.phase,
        lastSuccessAt: r.last_success_at,
        lastError: r.last_error_message,
        at: String(r.updated_at),
      },
    }));
  }

  private async alerts(c: Cursors): Promise<LiveEvent[]> {
    const rows = await this.db
      .selectFrom('alert_outbox')
      .select(['id', 'title', 'severity', 'status', 'policy_id', 'channel_id', 'created_at'])
      .where('id', '>', c.alert)
      .orderBy('id')
      .limit(CAP)
      .execute();
    if (rows.length) c.alert = Number(rows[rows.length - 1].id);
    return rows.map((r) => ({
      type: 'alert',
      data: {
        id: Number(r.id),
        title: r.title,
        severity: r.severity,
        status: r.status,
        policyId: r.policy_id,
        channelId: r.channel_id,
        at: String(r.created_at),
      },
    }));
  }
}
