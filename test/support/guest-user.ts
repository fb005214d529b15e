/** A guest user added to the rule tenant (test/support/rule-tenant.ts) the way the collector writes one. */
import { type GraphUser, user } from '../../src/resources/user.ts';
import { type ApplyContext, upsertRows } from '../../src/store/apply.ts';
import type { Store } from '../../src/store/store.ts';
import { RULE_INTEGRATION } from './rule-tenant.ts';

/** A guest user written through the collector's write path (resource mapping, upsert with history). */
export async function addGuest(store: Store, name: string): Promise<void> {
  const graph: GraphUser = {
    id: `g-${name}`,
    userPrincipalName: `${name}_fabrikam.com#EXT#@contoso.onmicrosoft.com`,
    displayName: `${name} (Fabrikam)`,
    mail: `${name}@fabrikam.com`,
    accountEnabled: true,
    userType: 'Guest',
    creationType: 'Invitation',
    externalUserState: 'Accepted',
    createdDateTime: '2026-01-02T00:00:00Z',
  };
  const rowContext = {
    integrationId: RULE_INTEGRATION,
    tenantId: 'tenant-rules',
    verifiedDomains: ['contoso.com'],
  };
  await store.db.transaction().execute(async (trx) => {
    const ctx: ApplyContext = {
      db: trx,
      dialect: store.dialect,
      integrationId: RULE_INTEGRATION,
      tenantId: 'tenant-rules',
      source: 'delta',
      now: new Date().toISOString(),
      verifiedDomains: ['contoso.com'],
    };
    await upsertRows(ctx, user as never, [user.toRow(graph, rowContext)]);
  });
}
