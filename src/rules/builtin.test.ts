import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { RULE_INTEGRATION, RULE_NOW, seedRuleTenant } from '../../test/support/rule-tenant.ts';
import { openTestStore, type TestStore, testDialects } from '../../test/support/store.ts';
import { defaultParams, type RuleDefinition, type RuleParams } from './definition.ts';
import { loadBuiltinRules } from './loader.ts';
import { type RuleRow, runRule } from './run-rule.ts';

/**
 * The built-in rules on a seeded tenant (test/support/rule-tenant.ts), on SQLite and
 * PostgreSQL: for each rule (and some parameter overrides) the resources that must alarm or
 * be an error, every other evaluated resource ok, and how many resources it evaluates. Keys:
 * `drive|item|permission`, `drive|item`, the drive id, the user id.
 */

const A = 'd-alice';

interface Case {
  rule: string;
  name?: string;
  params?: RuleParams;
  alarm?: string[];
  error?: string[];
  /** How many resources the rule evaluates: a number, or 'permissions' for every live permission. */
  evaluated: number | 'permissions';
  /** Per-row severities the SQL must set (others: none). */
  severity?: Record<string, string>;
  /** Reasons some rows must give. */
  reasons?: Record<string, string>;
}

const perm = (item: string, id: string, drive = A) => `${drive}|${item}|${id}`;
const item = (id: string, drive = A) => `${drive}|${id}`;

const CASES: Case[] = [
  {
    rule: 'permission_anonymous_link_absent',
    // Keyed by the item (a re-created link gets a new permission id): every sharing root.
    evaluated: 11,
    alarm: [item('i-public'), item('i-report'), item('i-plan'), item('i-expired'), item('i-odd')],
    reasons: {
      [item('i-public')]:
        '1 Anyone link (1 view) lets whoever holds the URL open the item without signing in',
      [item('i-report')]:
        '1 Anyone link (1 edit) lets whoever holds the URL open the item without signing in',
      [item('i-odd')]:
        '1 Anyone link (1 of another or unknown type) lets whoever holds the URL open the item without signing in',
    },
  },
  {
    rule: 'permission_anonymous_link_expires',
    evaluated: 'permissions',
    alarm: [
      perm('i-public', 'p-public-anyone'),
      perm('i-plan', 'p-plan-anyone'),
      perm('i-odd', 'p-odd-anyone'),
    ],
    reasons: {
      [perm('i-public', 'p-public-anyone')]: 'Anyone link never expires',
      [perm('i-plan', 'p-plan-anyone')]: 'Anyone link expires in 151 days, more than the 30 allowed',
      [perm('i-report', 'p-report-anyone')]: 'Anyone link expires within 30 days',
      [perm('i-expired', 'p-expired-anyone')]: 'Anyone link has expired',
    },
  },
  {
    rule: 'permission_anonymous_link_expires',
    name: 'max_days 200',
    params: { max_days: 200 },
    evaluated: 'permissions',
    alarm: [perm('i-public', 'p-public-anyone'), perm('i-odd', 'p-odd-anyone')],
  },
  {
    rule: 'permission_anonymous_link_view_only',
    evaluated: 'permissions',
    alarm: [perm('i-report', 'p-report-anyone')],
    error: [perm('i-odd', 'p-odd-anyone')],
  },
  {
    rule: 'permission_anonymous_link_protected',
    evaluated: 'permissions',
    alarm: [
      perm('i-public', 'p-public-anyone'),
      perm('i-report', 'p-report-anyone'),
      perm('i-expired', 'p-expired-anyone'),
      perm('i-odd', 'p-odd-anyone'),
    ],
  },
  {
    rule: 'permission_org_link_not_edit',
    evaluated: 'permissions',
    alarm: [perm('i-team', 'p-team-org')],
    error: [perm('i-odd', 'p-odd-org')],
  },
  {
    rule: 'permission_external_domain_allowed',
    evaluated: 'permissions',
    alarm: [perm('i-partners', 'p-partners-guest'), perm('i-partners', 'p-partners-gmail')],
    error: [perm('i-nodomain', 'p-nodomain')],
  },
  {
    rule: 'permission_external_domain_allowed',
    name: 'fabrikam.com allowed',
    params: { allowed_domains: ['fabrikam.com'] },
    evaluated: 'permissions',
    alarm: [perm('i-partners', 'p-partners-gmail')],
    error: [perm('i-nodomain', 'p-nodomain')],
    reasons: {
      [perm('i-partners', 'p-partners-gmail')]:
        'shared with a recipient in a domain that is not allowed: gmail.com',
    },
  },
  {
    rule: 'permission_personal_email_absent',
    evaluated: 'permissions',
    alarm: [perm('i-partners', 'p-partners-gmail')],
  },
  {
    rule: 'permission_guest_access_reviewed',
    evaluated: 'permissions',
    alarm: [
      perm('i-partners', 'p-partners-guest'),
      perm('i-partners', 'p-partners-gmail'),
      perm('i-nodomain', 'p-nodomain'),
    ],
  },
  {
    rule: 'permission_everyone_group_absent',
    evaluated: 'permissions',
    alarm: [perm('i-team', 'p-team-members'), perm('i-everyone', 'p-everyone')],
    severity: { [perm('i-everyone', 'p-everyone')]: 'high' },
  },
  {
    rule: 'permission_everyone_group_absent',
    name: 'Everyone except external users allowed',
    params: { include_everyone_except_external: false },
    evaluated: 'permissions',
    alarm: [perm('i-everyone', 'p-everyone')],
    severity: { [perm('i-everyone', 'p-everyone')]: 'high' },
  },
  {
    rule: 'item_external_share_not_stale',
    // Files exposed public or external: in Public (3), Partners (1), Docs' shared files (6).
    evaluated: 10,
    alarm: [item('i-id_rsa')],
    error: [item('i-undated')],
    reasons: { [item('i-id_rsa')]: 'exposed public and not modified for 731 days' },
  },
  {
    rule: 'item_sensitive_file_not_shared',
    evaluated: 5,
    alarm: [item('i-id_rsa'), item('i-pem')],
    error: [item('i-orphan-key')],
    severity: { [item('i-id_rsa')]: 'critical' },
  },
  {
    rule: 'item_sensitive_file_not_shared',
    name: 'no patterns',
    params: { sensitive_extensions: [], sensitive_names: [] },
    evaluated: 0,
  },
  {
    rule: 'item_shared_folder_not_public',
    evaluated: 3,
    alarm: [item('i-public'), item('i-partners')],
    severity: { [item('i-public')]: 'high' },
  },
  {
    rule: 'drive_owner_active',
    evaluated: 8,
    alarm: ['d-bob', 'd-ghost'],
    error: ['d-erin', 'd-nobody'],
  },
  {
    rule: 'drive_inactive_owner_not_sharing',
    evaluated: 8,
    alarm: ['d-carol', 'd-frank'],
    error: ['d-erin', 'd-ghost', 'd-nobody'],
    reasons: {
      'd-carol': 'the owner has not signed in for 214 days and shares 1 item(s)',
      'd-dave': 'the owner is inactive but shares nothing',
    },
  },
  {
    rule: 'drive_quota_healthy',
    evaluated: 8,
    alarm: ['d-bob', 'd-carol', 'd-erin', 'd-nobody'],
    error: ['d-dave'],
    severity: { 'd-carol': 'high', 'd-erin': 'high' },
    reasons: { 'd-nobody': 'quota nearing: 96% of 1000000 bytes used' },
  },
  {
    rule: 'user_mfa_registered',
    evaluated: 4,
    alarm: ['u-carol'],
    error: ['u-dave', 'u-frank'],
  },
  {
    rule: 'user_guest_invitation_accepted',
    evaluated: 4,
    alarm: ['g-gina'],
    error: ['g-jack'],
    reasons: { 'g-gina': 'invitation pending for 122 days', 'g-ivy': 'invitation accepted' },
  },
];

function keyOf(rule: RuleDefinition, row: RuleRow): string {
  if (rule.resource_type === 'permission') return `${row.drive_id}|${row.item_id}|${row.resource_id}`;
  if (rule.resource_type === 'drive_item') return `${row.drive_id}|${row.resource_id}`;
  return row.resource_id;
}

const rules = new Map(loadBuiltinRules().map((r) => [r.id, r]));
/** Rows per dialect and case, compared across dialects at the end. */
const seen = new Map<string, Map<string, RuleRow[]>>();

test('every H2 rule id has a case', () => {
  const ids = [
    'permission_anonymous_link_absent',
    'permission_anonymous_link_expires',
    'permission_anonymous_link_view_only',
    'permission_anonymous_link_protected',
    'permission_org_link_not_edit',
    'permission_external_domain_allowed',
    'permission_personal_email_absent',
    'permission_guest_access_reviewed',
    'permission_everyone_group_absent',
    'item_external_share_not_stale',
    'item_sensitive_file_not_shared',
    'item_shared_folder_not_public',
    'drive_owner_active',
    'drive_inactive_owner_not_sharing',
    'drive_quota_healthy',
    'user_mfa_registered',
    'user_guest_invitation_accepted',
  ];
  for (const id of ids) {
    assert.ok(rules.has(id), `rules/builtin/${id} loads`);
    assert.ok(
      CASES.some((c) => c.rule === id),
      `a case for ${id}`,
    );
  }
});

for (const dialect of testDialects()) {
  describe(`built-in rules on ${dialect}`, () => {
    let ts: TestStore;
    let permissions = 0;
    const rows = new Map<string, RuleRow[]>();
    seen.set(dialect, rows);
    before(async () => {
      ts = await openTestStore(dialect);
      await seedRuleTenant(ts.store);
      const r = await sql<{ n: number }>`select count(*) as n from permissions
        where integration_id = ${RULE_INTEGRATION} and deleted_at is null`.execute(ts.db);
      permissions = Number(r.rows[0]?.n);
    });
    after(async () => ts?.cleanup());

    for (const c of CASES) {
      test(`${c.rule}${c.name ? ` (${c.name})` : ''}`, async () => {
        const rule = rules.get(c.rule);
        assert.ok(rule, `rule ${c.rule} exists`);
        const result = await runRule(ts.store, rule, {
          integrationId: RULE_INTEGRATION,
          params: { ...defaultParams(rule), ...c.params },
          now: RULE_NOW,
        });
        rows.set(`${c.rule}|${c.name ?? ''}`, result);
        const byKey = new Map(result.map((r) => [keyOf(rule, r), r]));
        assert.equal(byKey.size, result.length, 'one row per resource');
        assert.equal(result.length, c.evaluated === 'permissions' ? permissions : c.evaluated, 'evaluated');
        const expected = new Map<string, string>();
        for (const k of c.alarm ?? []) expected.set(k, 'alarm');
        for (const k of c.error ?? []) expected.set(k, 'error');
        const actual = new Map(
          [...byKey].filter(([, r]) => r.status !== 'ok').map(([k, r]) => [k, r.status]),
        );
        assert.deepEqual(Object.fromEntries([...actual].sort()), Object.fromEntries([...expected].sort()));
        const severities = Object.fromEntries(
          [...byKey].filter(([, r]) => r.severity !== null).map(([k, r]) => [k, r.severity]),
        );
        assert.deepEqual(severities, c.severity ?? {});
        for (const [k, reason] of Object.entries(c.reasons ?? {}))
          assert.equal(byKey.get(k)?.reason, reason, k);
        for (const r of result) assert.ok(r.reason.length > 0, `${keyOf(rule, r)} has a reason`);
        if (rule.resource_type === 'permission' || rule.resource_type === 'drive_item')
          for (const r of result.filter((x) => x.drive_id === A && x.item_id !== 'i-orphan-key'))
            assert.ok(
              r.resource_path?.startsWith('/') && r.resource_owner === 'alice@contoso.com',
              keyOf(rule, r),
            );
      });
    }
  });
}

test('SQLite and PostgreSQL return the same rows', (t) => {
  const [a, b] = [...seen.values()];
  if (!a || !b) {
    t.diagnostic('one dialect only: nothing to compare');
    return;
  }
  assert.ok(a.size > 0);
  const sorted = (list: RuleRow[]) =>
    list
      .map((r) =>
        JSON.stringify([
          r.drive_id,
          r.item_id,
          r.resource_id,
          r.status,
          r.reason,
          r.severity,
          r.resource_name,
          r.resource_path,
          r.resource_owner,
        ]),
      )
      .sort();
  for (const [k, rows] of a) assert.deepEqual(sorted(b.get(k) ?? []), sorted(rows), k);
});
