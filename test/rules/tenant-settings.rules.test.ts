/**
 * The tenant-settings rules on seeded tenant_settings rows, on every dialect: one integration
 * per configuration, each rule run for each.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { GraphTenantSettings } from '../../src/resources/tenant-settings.ts';
import { tenantSettings } from '../../src/resources/tenant-settings.ts';
import type { ResourceDef } from '../../src/resources/types.ts';
import { defaultParams } from '../../src/rules/definition.ts';
import { BUILTIN_RULES_DIR, loadRuleFolder } from '../../src/rules/loader.ts';
import { type RuleRow, runRule } from '../../src/rules/run-rule.ts';
import { upsertRows } from '../../src/store/apply.ts';
import type { Store } from '../../src/store/store.ts';
import { openTestStore, testDialects } from '../support/store.ts';

const NOW = '2026-03-01T00:00:00.000Z';

const OPEN: GraphTenantSettings = {
  sharingCapability: 'externalUserAndGuestSharing',
  sharingDomainRestrictionMode: 'none',
  isResharingByExternalUsersEnabled: true,
  isRequireAcceptingUserToMatchInvitedUserEnabled: false,
  idleSessionSignOut: { isEnabled: false, warnAfterInSeconds: 0, signOutAfterInSeconds: 0 },
};
const GUESTS: GraphTenantSettings = {
  sharingCapability: 'externalUserSharingOnly',
  sharingDomainRestrictionMode: 'blockList',
  sharingBlockedDomainList: ['evil.example'],
  isResharingByExternalUsersEnabled: false,
  isRequireAcceptingUserToMatchInvitedUserEnabled: true,
  idleSessionSignOut: { isEnabled: true, warnAfterInSeconds: 14_000, signOutAfterInSeconds: 14_400 },
};
const HARDENED: GraphTenantSettings = {
  sharingCapability: 'existingExternalUserSharingOnly',
  sharingDomainRestrictionMode: 'allowList',
  sharingAllowedDomainList: ['fabrikam.example'],
  isResharingByExternalUsersEnabled: false,
  isRequireAcceptingUserToMatchInvitedUserEnabled: true,
  idleSessionSignOut: { isEnabled: true, warnAfterInSeconds: 3300, signOutAfterInSeconds: 3600 },
};
/** Sharing off: the guest settings have no effect, whatever they say. */
const CLOSED: GraphTenantSettings = {
  sharingCapability: 'disabled',
  sharingDomainRestrictionMode: 'none',
  isResharingByExternalUsersEnabled: true,
  isRequireAcceptingUserToMatchInvitedUserEnabled: false,
  idleSessionSignOut: { isEnabled: true, warnAfterInSeconds: 60, signOutAfterInSeconds: 120 },
};
/** Graph left everything out: the SQL can tell. */
const EMPTY: GraphTenantSettings = {};
const ODD: GraphTenantSettings = {
  sharingCapability: 'unknownFutureValue',
  sharingDomainRestrictionMode: 'x',
};

const TENANTS: Record<string, GraphTenantSettings> = {
  open: OPEN,
  guests: GUESTS,
  hardened: HARDENED,
  closed: CLOSED,
  empty: EMPTY,
  odd: ODD,
};

/** Expected status per rule and integration ('none': no row, the integration has no settings row). */
const EXPECTED: Record<string, Record<string, string>> = {
  tenant_external_sharing_limited: {
    open: 'alarm',
    guests: 'alarm',
    hardened: 'ok',
    closed: 'ok',
    empty: 'error',
    odd: 'error',
    none: 'none',
  },
  tenant_sharing_domains_restricted: {
    open: 'alarm',
    guests: 'alarm',
    hardened: 'ok',
    closed: 'ok',
    empty: 'error',
    odd: 'error',
    none: 'none',
  },
  tenant_guest_resharing_disabled: {
    open: 'alarm',
    guests: 'ok',
    hardened: 'ok',
    closed: 'ok',
    empty: 'error',
    odd: 'error',
    none: 'none',
  },
  tenant_guest_account_match_required: {
    open: 'alarm',
    guests: 'ok',
    hardened: 'ok',
    closed: 'ok',
    empty: 'error',
    odd: 'error',
    none: 'none',
  },
  tenant_idle_sign_out_enabled: {
    open: 'alarm',
    guests: 'alarm',
    hardened: 'ok',
    closed: 'ok',
    empty: 'error',
    odd: 'error',
    none: 'none',
  },
};

async function seed(store: Store): Promise<void> {
  await store.db.transaction().execute(async (trx) => {
    for (const [name, settings] of Object.entries(TENANTS)) {
      const ctx = {
        db: trx,
        dialect: store.dialect,
        integrationId: name,
        tenantId: `t-${name}`,
        source: 'full' as const,
        now: NOW,
      };
      const row = tenantSettings.toRow(tenantSettings.schema.parse(settings), {
        integrationId: name,
        tenantId: `t-${name}`,
        verifiedDomains: [],
      });
      await upsertRows(ctx, tenantSettings as ResourceDef<unknown>, [row]);
    }
  });
}

for (const dialect of testDialects()) {
  describe(`tenant settings rules (${dialect})`, () => {
    it('judge every seeded configuration: alarm, ok, error, nothing without a row', async () => {
      const { store, cleanup } = await openTestStore(dialect);
      try {
        await seed(store);
        for (const [ruleId, expected] of Object.entries(EXPECTED)) {
          const rule = loadRuleFolder(join(BUILTIN_RULES_DIR, ruleId), 'builtin');
          assert.equal(rule.resource_type, 'tenant_settings');
          assert.deepEqual(rule.requires, ['tenant_settings']);
          for (const [integrationId, status] of Object.entries(expected)) {
            const rows = await runRule(store, rule, { integrationId, params: defaultParams(rule), now: NOW });
            if (status === 'none') {
              assert.deepEqual(rows, [], `${ruleId} ${integrationId}`);
              continue;
            }
            assert.equal(rows.length, 1, `${ruleId} ${integrationId}: one row`);
            const [row] = rows;
            assert.equal(row.status, status, `${ruleId} ${integrationId}: ${row.reason}`);
            assert.equal(row.resource_id, `t-${integrationId}`, 'the row id is the tenant id');
            assert.ok(row.reason.length > 10);
            assert.ok(row.resource_name);
          }
        }
      } finally {
        await cleanup();
      }
    });

    it('say why, with the severity raised for links that need no sign-in and the parameter bound', async () => {
      const { store, cleanup } = await openTestStore(dialect);
      try {
        await seed(store);
        const run = async (ruleId: string, integrationId: string, params?: Record<string, unknown>) => {
          const rule = loadRuleFolder(join(BUILTIN_RULES_DIR, ruleId), 'builtin');
          const rows = await runRule(store, rule, {
            integrationId,
            params: { ...defaultParams(rule), ...params } as never,
            now: NOW,
          });
          return rows[0] as RuleRow;
        };
        const open = await run('tenant_external_sharing_limited', 'open');
        assert.equal(open.severity, 'critical');
        assert.match(open.reason, /anyone/);
        assert.equal(open.details.sharing_capability, 'externalUserAndGuestSharing');
        const guests = await run('tenant_external_sharing_limited', 'guests');
        assert.equal(guests.severity, null);
        assert.match((await run('tenant_sharing_domains_restricted', 'guests')).reason, /blocked/);
        // 14,400 s is more than 3 h; a looser limit lets it pass.
        assert.match(
          (await run('tenant_idle_sign_out_enabled', 'guests')).reason,
          /14400 s, more than 10800 s/,
        );
        const loose = await run('tenant_idle_sign_out_enabled', 'guests', { max_sign_out_seconds: 86_400 });
        assert.equal(loose.status, 'ok');
        assert.equal(
          (await run('tenant_idle_sign_out_enabled', 'hardened')).reason,
          'idle sessions are signed out after 3600 s',
        );
      } finally {
        await cleanup();
      }
    });
  });
}
