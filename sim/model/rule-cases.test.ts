import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateFromOptions } from '../index.ts';
import { expectedRuleResults, TRUTH_RULE_IDS } from '../truth-rules.ts';
import { KEY_FILE_NAMES } from './generate/rule-cases.ts';
import type { Tenant } from './tenant.ts';

const opts = { seed: 42, users: 60, items: 3000, referenceTime: '2026-01-01T00:00:00Z' };
const NOW = '2026-01-01T00:00:00.000Z';

/** What the rule cases put in a tenant, counted. */
function census(t: Tenant) {
  const c = {
    protectedAnyone: 0,
    everyone: 0,
    everyoneInternal: 0,
    claimShapes: new Set<string>(),
    keyFiles: 0,
  };
  for (const ps of t.perms.values())
    for (const p of ps) {
      if (p.linkScope === 'anonymous' && p.preventsDownload) c.protectedAnyone++;
      for (const r of p.recipients) {
        if (r.kind === 'everyone') c.everyone++;
        if (r.kind === 'everyone_internal') c.everyoneInternal++;
        if (r.claim) c.claimShapes.add(r.claim.identity);
      }
    }
  for (let i = 0; i < t.items.length; i++) if (KEY_FILE_NAMES.includes(t.items.name[i])) c.keyFiles++;
  return c;
}

/** Parameters as the rules' defaults give them (the truth needs every one named). */
const PARAMS = {
  permission_anonymous_link_expires: { max_days: 30 },
  permission_external_domain_allowed: { allowed_domains: [] },
  permission_personal_email_absent: {
    personal_domains: ['gmail.com', 'outlook.com', 'hotmail.com', 'yahoo.com'],
  },
  permission_everyone_group_absent: { include_everyone_except_external: true },
  item_external_share_not_stale: { stale_days: 180 },
  item_sensitive_file_not_shared: {
    sensitive_names: ['id_rsa', '.env', 'id_ed25519'],
    sensitive_extensions: ['pem', 'kdbx', 'ppk', 'p12', 'key', 'pfx', 'env'],
  },
  drive_inactive_owner_not_sharing: { inactive_days: 90 },
  user_guest_invitation_accepted: { pending_days: 30 },
  tenant_idle_sign_out_enabled: { max_sign_out_seconds: 10800 },
};

test('rule cases: each appears, deterministically; violationRatio 0 leaves the tenant as the sharing made it', () => {
  const t = generateFromOptions(opts);
  const c = census(t);
  assert.ok(c.protectedAnyone >= 1, 'an Anyone link that blocks downloads');
  assert.ok(c.everyone >= 1 && c.everyoneInternal >= 1, 'grants to both Everyone claims');
  assert.deepEqual([...c.claimShapes].sort(), ['siteGroup', 'siteUser'], 'served as either identity');
  assert.deepEqual(census(generateFromOptions(opts)), c, 'the same again');

  const none = census(generateFromOptions({ ...opts, violationRatio: 0 }));
  assert.deepEqual([none.protectedAnyone, none.everyone, none.everyoneInternal], [0, 0, 0]);
  // Some key file names also come with the ordinary files (id_rsa, .env, cert.pfx).
  assert.ok(
    c.keyFiles >= none.keyFiles + 3,
    `key files added in shared folders: ${c.keyFiles - none.keyFiles}`,
  );
  const more = census(generateFromOptions({ ...opts, violationRatio: 0.8 }));
  assert.ok(
    more.everyone + more.everyoneInternal > c.everyone + c.everyoneInternal,
    'a larger ratio, more cases',
  );
});

test('rule cases: every built-in rule has alarms and ok resources in the truth of a generated tenant', () => {
  const results = expectedRuleResults(generateFromOptions(opts), { now: NOW, params: PARAMS });
  // The tenant's settings are one resource: one status each (tests of their rules flip them).
  for (const rule of TRUTH_RULE_IDS.filter((id) => !id.startsWith('tenant_'))) {
    const statuses = [...results].filter(([k]) => k.startsWith(`${rule}|`)).map(([, s]) => s);
    assert.ok(statuses.includes('alarm'), `${rule} alarms somewhere`);
    assert.ok(statuses.includes('ok'), `${rule} is ok somewhere`);
  }
  assert.throws(
    () => expectedRuleResults(generateFromOptions(opts), { now: NOW, params: {} }),
    /no value for parameter/,
  );
});
