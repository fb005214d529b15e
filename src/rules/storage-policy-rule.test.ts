import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Kysely } from 'kysely';
import { openTestStore, type TestStore, testDialects } from '../../test/support/store.ts';
import type { Database } from '../store/schema.ts';
import { BUILTIN_RULES_DIR, loadRuleFolder } from './loader.ts';
import { type RuleRow, runRule } from './run-rule.ts';
import { addStoragePolicy } from './storage-policies.ts';
import { seedDrive, seedGroup, seedUser } from './test-support/seed.ts';

const GB = 1024 ** 3;
const TB = 1024 ** 4;
const I = 'i1';
const NOW = '2026-03-01T12:00:00.000Z';
const rule = loadRuleFolder(join(BUILTIN_RULES_DIR, 'drive_storage_policy_respected'), 'builtin');

/**
 * A tenant where each drive tests one way of choosing and judging its policy. Policies are
 * added in this order, so their ids are 1, 2, 3, …
 */
async function seedTenant(db: Kysely<Database>): Promise<Record<string, number>> {
  const users = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'gina', 'henry', 'ivan', 'x1', 'x2', 'y1'];
  for (const u of users) await seedUser(db, I, u, `${u}@contoso.example`);
  // Big has 5 live members, Small 3 (carol left Small: a tombstoned membership counts for nothing).
  await seedGroup(db, I, 'g-big', 'Big', ['alice', 'bob', 'carol', 'x1', 'x2']);
  await seedGroup(db, I, 'g-small', 'Small', ['alice', 'bob', 'y1'], { deletedMembers: ['carol'] });
  // Two groups of the same size: the older policy wins.
  await seedGroup(db, I, 'g-tie-a', 'Tie A', ['gina', 'x1']);
  await seedGroup(db, I, 'g-tie-b', 'Tie B', ['gina', 'x2']);

  const drive = (id: string, owner: string, used: number | null, total: number | null) =>
    seedDrive(db, I, { id: `d-${id}`, ownerId: owner, ownerEmail: `${owner}@contoso.example`, used, total });
  await drive('alice', 'alice', 9.5 * GB, TB); // own 10 GB policy: 95 % → warning
  await drive('bob', 'bob', 4.5 * GB, TB); // Small's 5 GB (warn 80 %): 90 % → warning; Big's 1 GB ignored
  await drive('carol', 'carol', 2 * GB, TB); // Big's 1 GB → violation
  await drive('dave', 'dave', 900 * GB, TB); // no policy → no row
  await drive('erin', 'erin', 60 * GB, 100 * GB); // own 50 % of quota → violation
  await drive('frank', 'frank', null, TB); // own policy, used bytes unknown → error
  await drive('gina', 'gina', 2 * GB, TB); // Tie A (100 GB, older) over Tie B (1 GB) → ok
  await drive('henry', 'henry', 100 * GB, TB); // own 80 % of 1 TB → ok
  await drive('ivan', 'ivan', 10 * GB, null); // own percent policy, quota total unknown → error
  await seedDrive(db, I, { id: 'd-gone', ownerId: 'alice', used: 99 * GB, total: TB, deletedAt: NOW });
  await seedDrive(db, I, { id: 'd-team', ownerId: 'g-big', ownerKind: 'group', used: 99 * GB, total: TB });
  // Another integration's drive of the same owner id, under a policy of its own integration.
  await seedUser(db, 'i2', 'alice', 'alice@fabrikam.example');
  await seedDrive(db, 'i2', { id: 'd-other', ownerId: 'alice', used: 99 * GB, total: TB });

  const ids: Record<string, number> = {};
  const add = async (name: string, input: Omit<Parameters<typeof addStoragePolicy>[1], 'integrationId'>) => {
    ids[name] = (await addStoragePolicy(db, { integrationId: I, ...input }, NOW)).id;
  };
  await add('big', { scope: { kind: 'group', ref: 'Big' }, limit: { bytes: GB } });
  await add('alice', { scope: { kind: 'user', ref: 'alice@contoso.example' }, limit: { bytes: 10 * GB } });
  await add('small', { scope: { kind: 'group', ref: 'small' }, limit: { bytes: 5 * GB }, warning: 0.8 });
  await add('erin', { scope: { kind: 'user', ref: 'erin' }, limit: { percent: 50 } });
  await add('frank', { scope: { kind: 'user', ref: 'frank' }, limit: { bytes: GB } });
  await add('tieA', { scope: { kind: 'group', ref: 'Tie A' }, limit: { bytes: 100 * GB } });
  await add('tieB', { scope: { kind: 'group', ref: 'Tie B' }, limit: { bytes: GB } });
  await add('henry', { scope: { kind: 'user', ref: 'henry' }, limit: { percent: 80 } });
  await add('ivan', { scope: { kind: 'user', ref: 'ivan' }, limit: { percent: 12.5 } });
  await addStoragePolicy(db, {
    integrationId: 'i2',
    scope: { kind: 'user', ref: 'alice' },
    limit: { bytes: GB },
  });
  return ids;
}

for (const dialect of testDialects()) {
  describe(`drive_storage_policy_respected (${dialect})`, () => {
    let t: TestStore;
    let ids: Record<string, number>;
    let rows: Map<string, RuleRow>;
    before(async () => {
      t = await openTestStore(dialect);
      ids = await seedTenant(t.db);
      const result = await runRule(t.store, rule, { integrationId: I, params: {}, now: NOW });
      rows = new Map(result.map((r) => [r.resource_id, r]));
    });
    after(() => t.cleanup());

    const verdict = (drive: string) => {
      const r = rows.get(drive);
      assert.ok(r, `a row for ${drive}`);
      return { status: r.status, severity: r.severity, policy: r.details.policy_id };
    };

    it('evaluates only live user drives to which a policy applies', () => {
      assert.deepEqual(
        [...rows.keys()],
        ['d-alice', 'd-bob', 'd-carol', 'd-erin', 'd-frank', 'd-gina', 'd-henry', 'd-ivan'],
      );
    });

    it("applies a user's own policy over any group policy", () => {
      assert.deepEqual(verdict('d-alice'), { status: 'alarm', severity: 'medium', policy: ids.alice });
      assert.equal(
        rows.get('d-alice')?.reason,
        `nearing its storage limit: 9.5 GB used of 10.0 GB (95%), user policy ${ids.alice}`,
      );
      assert.equal(rows.get('d-alice')?.resource_owner, 'alice@contoso.example');
      assert.equal(rows.get('d-alice')?.drive_id, 'd-alice');
      assert.equal(rows.get('d-alice')?.details.policy_scope, 'user');
      assert.equal(rows.get('d-alice')?.details.policy_group_members, null);
    });

    it('applies the smallest group, counting live transitive members', () => {
      assert.deepEqual(verdict('d-bob'), { status: 'alarm', severity: 'medium', policy: ids.small });
      assert.equal(Number(rows.get('d-bob')?.details.policy_group_members), 3);
      // carol left Small: Big's policy applies to her.
      assert.deepEqual(verdict('d-carol'), { status: 'alarm', severity: 'high', policy: ids.big });
      assert.equal(
        rows.get('d-carol')?.reason,
        `over its storage limit: 2.0 GB used of 1.0 GB (200%), group policy ${ids.big}`,
      );
    });

    it('gives groups of the same size to the older policy', () => {
      assert.deepEqual(verdict('d-gina'), { status: 'ok', severity: null, policy: ids.tieA });
    });

    it('tells a warning (medium) from a violation (high)', () => {
      assert.equal(verdict('d-alice').severity, 'medium');
      assert.equal(verdict('d-carol').severity, 'high');
    });

    it("reads percent limits against the drive's quota", () => {
      assert.deepEqual(verdict('d-erin'), { status: 'alarm', severity: 'high', policy: ids.erin });
      assert.equal(Number(rows.get('d-erin')?.details.limit_bytes), 50 * GB);
      assert.deepEqual(verdict('d-henry'), { status: 'ok', severity: null, policy: ids.henry });
      assert.equal(
        rows.get('d-henry')?.reason,
        `within its storage limit: 100.0 GB used of 819.2 GB (12%), user policy ${ids.henry}`,
      );
    });

    it('says error for a drive whose used bytes or quota Graph did not report', () => {
      assert.deepEqual(verdict('d-frank'), { status: 'error', severity: null, policy: ids.frank });
      assert.match(rows.get('d-frank')?.reason ?? '', /did not report the used bytes/);
      assert.deepEqual(verdict('d-ivan'), { status: 'error', severity: null, policy: ids.ivan });
      assert.match(
        rows.get('d-ivan')?.reason ?? '',
        /percent of its quota, and Graph did not report the quota/,
      );
    });

    it('a policy of another integration never applies', async () => {
      const other = await runRule(t.store, rule, { integrationId: 'i2', params: {}, now: NOW });
      assert.deepEqual(
        other.map((r) => [r.resource_id, r.status, r.severity]),
        [['d-other', 'alarm', 'high']],
      );
    });
  });
}
