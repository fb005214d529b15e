import { createHash, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { OutboxNew } from '../queue/alert-outbox.ts';
import type { Database } from '../store/schema.ts';
import type { AlertBatch } from './batch.ts';
import type { Decision } from './decide.ts';
import type { AppLinks } from './links.ts';
import { type AlertMessage, itemHeadline, itemWhere } from './message.ts';
import type { EventPolicy, Policy } from './policy-repo.ts';
import { enrichFor } from './sources/index.ts';

/* What the router writes for a decision: the messages, and one outbox row per message and channel. */

/** Stable per alert and channel; what receivers deduplicate on. */
export function idempotencyKey(alertId: string, channelId: string): string {
  return `msg_${createHash('sha256').update(`${alertId}:${channelId}`).digest('base64url').slice(0, 27)}`;
}

/** The messages a decision sends (none, one per event, or one digest), their items enriched. */
export async function composeMessages(
  trx: Kysely<Database>,
  policy: EventPolicy,
  decision: Decision,
  batch: AlertBatch,
  links: AppLinks,
  nowIso: string,
): Promise<AlertMessage[]> {
  if (decision.action === 'singles') {
    const out: AlertMessage[] = [];
    for (const c of batch.everything() ?? batch.topItems()) {
      const { item } = await enrichFor(trx, policy, c);
      out.push({
        id: randomUUID(),
        policy: policy.name,
        kind: 'alert',
        title: `${itemHeadline(item)} — ${itemWhere(item)}`,
        severity: item.severity,
        count: 1,
        bySeverity: { [item.severity]: 1 },
        items: [item],
        digestReason: null,
        appUrl: item.appUrl,
        createdAt: nowIso,
      });
    }
    return out;
  }
  if (decision.action !== 'digest') return [];
  const items = [];
  for (const c of batch.topItems()) items.push((await enrichFor(trx, policy, c)).item);
  const why = { burst: '', quiet_hours: ' during quiet hours', rate_limit: ' (rate limited)' }[
    decision.reason
  ];
  const what = { rule: 'finding events', change: 'changes', compliance: 'score changes' }[policy.kind];
  return [
    {
      id: randomUUID(),
      policy: policy.name,
      kind: 'digest',
      title: `${batch.count} ${what} for ${policy.name}${why}`,
      severity: batch.severity(),
      count: batch.count,
      bySeverity: batch.bySeverity,
      items,
      digestReason: decision.reason,
      appUrl: links.list(policy.kind),
      createdAt: nowIso,
    },
  ];
}

/** One outbox row per channel of the policy; the message is frozen into the row. */
export function outboxRows(policy: Policy, message: AlertMessage, nowIso: string): OutboxNew[] {
  const body = JSON.stringify(message);
  return policy.channelIds.map((channelId) => ({
    alert_id: message.id,
    idempotency_key: idempotencyKey(message.id, channelId),
    policy_id: policy.id,
    channel_id: channelId,
    kind: message.kind,
    item_count: message.count,
    severity: message.severity,
    title: message.title.slice(0, 300),
    body,
    created_at: nowIso,
  }));
}
