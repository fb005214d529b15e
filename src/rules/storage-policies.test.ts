import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openTestStore, type TestStore, testDialects } from '../../test/support/store.ts';
import {
  addStoragePolicy,
  describeLimit,
  listStoragePolicies,
  parsePercent,
  parseSize,
  parseThreshold,
  removeStoragePolicy,
  StoragePolicyError,
} from './storage-policies.ts';
import { seedGroup, seedUser } from './test-support/seed.ts';

const GB = 1024 ** 3;

describe('storage policy values', () => {
  it('reads sizes in binary units', () => {
    assert.equal(parseSize('50GB'), 50 * GB);
    assert.equal(parseSize('1.5 tb'), 1.5 * 1024 ** 4);
    assert.equal(parseSize('500MiB'), 500 * 1024 ** 2);
    assert.equal(parseSize('1048576'), 1048576);
    for (const bad of ['', 'GB', '-5GB', '5 parsecs', '0'])
      assert.throws(() => parseSize(bad), StoragePolicyError, bad);
  });

  it('reads percents of the quota and thresholds of the limit', () => {
    assert.equal(parsePercent('80%'), 80);
    assert.equal(parsePercent('12.5'), 12.5);
    for (const bad of ['0', '101%', '1.234', 'x'])
      assert.throws(() => parsePercent(bad), StoragePolicyError, bad);
    assert.equal(parseThreshold('90%'), 0.9);
    assert.equal(parseThreshold('0.75'), 0.75);
    assert.equal(parseThreshold('110%'), 1.1);
    for (const bad of ['0%', 'lots', '-1']) assert.throws(() => parseThreshold(bad), StoragePolicyError, bad);
  });

  it('describes limits as people read them', () => {
    assert.equal(describeLimit({ limitBytes: 50 * GB, limitPercent: null }), '50 GB');
    assert.equal(describeLimit({ limitBytes: null, limitPercent: 80 }), '80% of quota');
  });
});

for (const dialect of testDialects()) {
  describe(`storage policies in the store (${dialect})`, () => {
    let t: TestStore;
    before(async () => {
      t = await openTestStore(dialect);
      await seedUser(t.db, 'i1', 'u-alice', 'Alice@Contoso.example');
      await seedUser(t.db, 'i1', 'u-gone', 'gone@contoso.example', { deletedAt: '2026-01-02T00:00:00.000Z' });
      await seedGroup(t.db, 'i1', 'g-fin', 'Finance', ['u-alice']);
      await seedGroup(t.db, 'i1', 'g-fin2', 'finance', []);
      await seedGroup(t.db, 'i1', 'g-eng', 'Engineering', ['u-alice']);
    });
    after(() => t.cleanup());

    it('adds a policy for a user named by UPN, in any case, with the default thresholds', async () => {
      const p = await addStoragePolicy(t.db, {
        integrationId: 'i1',
        scope: { kind: 'user', ref: 'alice@contoso.EXAMPLE' },
        limit: { bytes: 50 * GB },
        description: ' executive ',
        createdBy: 'cli',
      });
      assert.equal(p.scopeId, 'u-alice');
      assert.equal(p.scopeName, 'Alice@Contoso.example');
      assert.equal(p.limitBytes, 50 * GB);
      assert.equal(p.limitPercent, null);
      assert.equal(p.warningThreshold, 0.9);
      assert.equal(p.violationThreshold, 1);
      assert.equal(p.description, 'executive');
    });

    it('adds a percent policy for a group named by its display name', async () => {
      const p = await addStoragePolicy(t.db, {
        integrationId: 'i1',
        scope: { kind: 'group', ref: 'engineering' },
        limit: { percent: 80 },
        warning: 0.75,
      });
      assert.deepEqual(
        [p.scopeKind, p.scopeId, p.scopeName, p.limitPercent, p.warningThreshold],
        ['group', 'g-eng', 'Engineering', 80, 0.75],
      );
    });

    it('refuses what it cannot resolve or would make two policies for one scope', async () => {
      const add = (ref: string, kind: 'user' | 'group' = 'user', extra = {}) =>
        addStoragePolicy(t.db, { integrationId: 'i1', scope: { kind, ref }, limit: { bytes: GB }, ...extra });
      await assert.rejects(add('nobody@contoso.example'), /no user "nobody@contoso.example"/);
      await assert.rejects(add('gone@contoso.example'), /no user/, 'a deleted user is not a scope');
      await assert.rejects(add('alice@contoso.example'), /already has storage policy/);
      await assert.rejects(add('Finance', 'group'), /names 2 groups \(g-fin, g-fin2\): give the Graph id/);
      await assert.rejects(add('u-alice', 'user', { integrationId: 'i2' }), /no user "u-alice"/);
      await assert.rejects(
        add('g-fin', 'group', { warning: 1.2, violation: 1 }),
        /warning threshold \(120%\)/,
      );
      await assert.rejects(
        addStoragePolicy(t.db, {
          integrationId: 'i1',
          scope: { kind: 'group', ref: 'g-fin' },
          limit: { percent: 0 },
        }),
        /percent limit must be above 0/,
      );
    });

    it('lists policies by integration with their scope names, and removes them by id', async () => {
      const listed = await listStoragePolicies(t.db, { integrationId: 'i1' });
      assert.deepEqual(
        listed.map((p) => [p.scopeKind, p.scopeName]),
        [
          ['user', 'Alice@Contoso.example'],
          ['group', 'Engineering'],
        ],
      );
      assert.deepEqual(await listStoragePolicies(t.db, { integrationId: 'i2' }), []);
      const removed = await removeStoragePolicy(t.db, listed[0].id);
      assert.equal(removed.scopeId, 'u-alice');
      await assert.rejects(removeStoragePolicy(t.db, listed[0].id), /no storage policy/);
      assert.equal((await listStoragePolicies(t.db)).length, 1);
    });

    it('the database refuses a policy with both limits or none', async () => {
      const row = {
        integration_id: 'i1',
        scope_kind: 'group' as const,
        scope_id: 'g-fin',
        warning_threshold: 0.9,
        violation_threshold: 1,
        created_at: '2026-01-01T00:00:00.000Z',
      };
      await assert.rejects(
        t.db
          .insertInto('storage_policies')
          .values({ ...row, limit_bytes: 1, limit_percent: 5 })
          .execute(),
      );
      await assert.rejects(t.db.insertInto('storage_policies').values(row).execute());
    });
  });
}
