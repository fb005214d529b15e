import { flattenLabels, sensitivityLabel } from '../resources/sensitivity-label.ts';
import type { ChangeSource } from '../store/apply.ts';
import { refreshItemLabelNames } from '../store/labels.ts';
import type { SyncContext } from './context.ts';
import { collectListing } from './listing.ts';

/**
 * The tenant's sensitivity labels (GET /security/dataSecurityAndGovernance/sensitivityLabels,
 * sublabels flattened) into sensitivity_labels, then the names of the labels files carry
 * (item_labels.label_name) from it. Throws the GraphError of a failed read: without the
 * permission the labels stay known by id, their names as last read.
 */
export async function collectLabelCatalogue(
  ctx: SyncContext,
  source: ChangeSource,
): Promise<{ labels: number; changes: number }> {
  const r = await collectListing(ctx, {
    scope: 'sensitivity-labels',
    resource: 'sensitivityLabels',
    def: sensitivityLabel,
    url: sensitivityLabel.graph.endpoint,
    source,
    flatten: flattenLabels,
  });
  await refreshItemLabelNames(ctx.store.db, ctx.integration.id);
  return { labels: r.rows, changes: r.changes };
}
