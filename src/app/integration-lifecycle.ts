import { SubscriptionManager } from '../collect/realtime/subscriptions.ts';
import { openInboxForReading } from '../queue/webhook-inbox.ts';
import { SubscriptionCache } from '../store/subscription-cache.ts';
import type { AppContext } from './context.ts';

/**
 * Disabling and deleting an integration (CLI today, REST API later). Both stop Graph
 * from sending notifications by deleting the integration's subscriptions on Graph first;
 * failures there are reported, never fatal — the receiver rejects notifications of
 * subscriptions it has forgotten.
 */

export interface SubscriptionRemoval {
  deleted: number;
  errors: Array<{ id: string; error: string }>;
}

export async function deleteGraphSubscriptions(
  app: AppContext,
  integrationId: string,
): Promise<SubscriptionRemoval> {
  const integration = await app.integrations.getWithCredentials(integrationId);
  const client = app.graphClientFor(integration);
  try {
    const manager = new SubscriptionManager({
      db: app.store.db,
      cache: new SubscriptionCache(app.store.db),
      logger: app.logger,
      publicUrl: app.config.server.publicUrl,
      pollIntervalSeconds: app.config.sync.pollIntervalSeconds,
      graphClientFor: () => client,
    });
    const { deleted, errors } = await manager.removeAll(integrationId);
    return { deleted: deleted.length, errors };
  } finally {
    await client.close();
  }
}

/** Pauses all collection and webhooks; the data stays. */
export async function disableIntegration(app: AppContext, idOrName: string): Promise<SubscriptionRemoval> {
  const info = await app.integrations.get(idOrName);
  if (!info) throw new Error(`no integration "${idOrName}"`);
  await app.integrations.setEnabled(info.id, false);
  return deleteGraphSubscriptions(app, info.id);
}

/** Stops everything, deletes its Graph subscriptions and purges all of its data in one transaction. */
export async function deleteIntegration(
  app: AppContext,
  idOrName: string,
): Promise<{ subscriptions: SubscriptionRemoval; rowsPurged: number }> {
  const info = await app.integrations.get(idOrName);
  if (!info) throw new Error(`no integration "${idOrName}"`);
  const subscriptions = await deleteGraphSubscriptions(app, info.id);
  const counts = await app.integrations.delete(info.id);
  // On SQLite the webhook inbox lives in its own file (see queue/webhook-inbox.ts).
  const inbox = await openInboxForReading(app.store.db);
  let inboxRows = 0;
  try {
    if (inbox.kind === 'sqlite-file') inboxRows = await inbox.purgeIntegration(info.id);
  } finally {
    await inbox.close();
  }
  return { subscriptions, rowsPurged: Object.values(counts).reduce((a, b) => a + b, 0) + inboxRows };
}

export function describeRemoval(r: SubscriptionRemoval): string {
  const failed = r.errors.length
    ? ` (${r.errors.length} could not be deleted on Graph: ${r.errors[0].error})`
    : '';
  return `${r.deleted} Graph subscription${r.deleted === 1 ? '' : 's'} deleted${failed}`;
}
