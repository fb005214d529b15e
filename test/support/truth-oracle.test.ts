import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { syncIntegration } from '../../src/collect/sync.ts';
import { openStore, type Store } from '../../src/store/store.ts';
import { simClient, simContext, simulatorSuite } from './collector.ts';
import { describeDiff, diffWithTruth, type TruthDiff } from './truth.ts';

/**
 * The oracle can fail: a correct full sync compares exact, and each corruption of the stored
 * inventory (one per case, written straight into the SQLite file) is named in the diff.
 */

// A tenant with enough sharing to hold guests, outside addresses, invitations and links.
const SIM = { seed: 23, users: 30, items: 900, sharedRatio: 0.12, anonymousRatio: 0.03 };

/** The parsed differences, kind first. */
function entries(diff: TruthDiff): unknown[][] {
  return [...diff.missing, ...diff.extra].map((k) => JSON.parse(k) as unknown[]);
}

/** Some difference of this kind names this column. */
function names(diff: TruthDiff, kind: string, column: string): boolean {
  return entries(diff).some((e) => e[0] === kind && e.includes(column));
}

interface Corruption {
  name: string;
  /** SQL on the SQLite store; it must change at least one row. */
  sql: string;
  /** The difference the oracle must report. */
  expect: { kind: string; column: string };
}

const CORRUPTIONS: Corruption[] = [
  {
    name: 'is_external flipped on every permission',
    sql: 'update permissions set is_external = 1 - is_external',
    expect: { kind: 'permission', column: 'is_external' },
  },
  {
    name: 'is_guest flipped on every permission',
    sql: 'update permissions set is_guest = 1 - is_guest',
    expect: { kind: 'permission', column: 'is_guest' },
  },
  {
    name: 'recipient kind garbled',
    sql: "update permissions set recipient_kind = 'siteUser' where recipient_kind = 'user'",
    expect: { kind: 'permission', column: 'recipient_kind' },
  },
  {
    name: 'first recipient id faked',
    sql: "update permissions set recipient_id = 'x' || recipient_id where recipient_id is not null",
    expect: { kind: 'permission', column: 'recipient_id' },
  },
  {
    name: 'first recipient e-mail faked',
    sql: "update permissions set recipient_email = 'someone@contoso.test' where recipient_email is not null",
    expect: { kind: 'permission', column: 'recipient_email' },
  },
  {
    name: 'first recipient domain faked',
    sql: "update permissions set recipient_domain = 'contoso.test' where recipient_domain <> 'contoso.test'",
    expect: { kind: 'permission', column: 'recipient_domain' },
  },
  {
    name: 'first recipient name faked',
    sql: "update permissions set recipient_name = 'Nobody' where recipient_name is not null",
    expect: { kind: 'permission', column: 'recipient_name' },
  },
  {
    name: 'recipients emptied',
    sql: "update permissions set recipients = '[]' where recipient_count > 0",
    expect: { kind: 'permission', column: 'recipients' },
  },
  {
    name: 'invitation e-mail dropped',
    sql: 'update permissions set invitation_email = null where invitation_email is not null',
    expect: { kind: 'permission', column: 'invitation_email' },
  },
  {
    name: 'prevents-download flipped on links',
    sql: 'update permissions set prevents_download = 1 - prevents_download where link_type is not null',
    expect: { kind: 'permission', column: 'prevents_download' },
  },
  {
    name: 'Anyone links narrowed to the organization',
    sql: "update permissions set link_scope = 'organization' where link_scope = 'anonymous'",
    expect: { kind: 'permission', column: 'link_scope' },
  },
  {
    name: 'created-by e-mail faked',
    sql: "update drive_items set created_by_email = 'intern@contoso.test'",
    expect: { kind: 'item', column: 'created_by_email' },
  },
  {
    name: 'modified-by e-mail faked',
    sql: "update drive_items set modified_by_email = 'intern@contoso.test'",
    expect: { kind: 'item', column: 'modified_by_email' },
  },
  {
    name: 'drive owner e-mail faked',
    sql: "update drives set owner_email = 'intern@contoso.test'",
    expect: { kind: 'drive', column: 'owner_email' },
  },
  {
    name: 'users.is_guest flipped',
    sql: 'update users set is_guest = 1 - is_guest',
    expect: { kind: 'user', column: 'is_guest' },
  },
  {
    name: 'MFA admin flag flipped',
    sql: 'update user_mfa set is_admin = 1 - is_admin',
    expect: { kind: 'mfa', column: 'is_admin' },
  },
  {
    name: 'MFA registration flipped',
    sql: 'update user_mfa set is_mfa_registered = 1 - is_mfa_registered',
    expect: { kind: 'mfa', column: 'is_mfa_registered' },
  },
  {
    name: 'public items shown as private',
    sql: "update drive_items set exposure = 'private' where exposure = 'public'",
    expect: { kind: 'item', column: 'exposure' },
  },
  {
    name: 'externally shared items shown as internal',
    sql: "update drive_items set exposure = 'internal' where exposure = 'external'",
    expect: { kind: 'item', column: 'exposure' },
  },
  {
    name: 'inherited access roots dropped',
    sql: 'update drive_items set access_root_id = null where access_root_id <> id',
    expect: { kind: 'item', column: 'access_root_id' },
  },
  {
    name: 'guest and external grants shown as internal',
    sql: "update grants set audience = 'internal' where audience in ('guest', 'external')",
    expect: { kind: 'grant', column: 'audience' },
  },
  {
    name: 'grant recipient kind garbled',
    sql: "update grants set recipient_kind = 'user' where recipient_kind = 'guest'",
    expect: { kind: 'grant', column: 'recipient_kind' },
  },
];

describe('the oracle reports every corruption of a correct inventory', () => {
  const suite = simulatorSuite(SIM, 'dw-oracle-');
  const base = () => suite.path('base.db');
  let n = 0;

  /** A copy of the correctly synced store, corrupted by `fn`, compared with the truth. */
  async function corrupted(fn: (store: Store) => Promise<void>): Promise<TruthDiff> {
    const file = suite.path(`case-${++n}.db`);
    copyFileSync(base(), file);
    const store = await openStore({ file });
    try {
      await fn(store);
      return await diffWithTruth(store, 'int-oracle', suite.env.admin);
    } finally {
      await store.close();
    }
  }

  async function exec(store: Store, text: string): Promise<number> {
    const r = await sql.raw(text).execute(store.db);
    return Number(r.numAffectedRows ?? 0);
  }

  before(async () => {
    const store = await openStore({ file: base() });
    const client = simClient(suite.env.sim);
    try {
      const result = await syncIntegration(simContext(store, suite.env.sim, client, 'int-oracle'), {
        mode: 'full',
      });
      assert.deepEqual(result.errors, []);
    } finally {
      await client.close();
      await store.close();
    }
  });

  test('the uncorrupted inventory is exact, history included (one added record per resource)', async () => {
    const diff = await corrupted(async () => {});
    assert.deepEqual([diff.missing, diff.extra], [[], []], describeDiff(diff));
    const store = await openStore({ file: base() });
    try {
      const full = await diffWithTruth(store, 'int-oracle', suite.env.admin, { history: 'fullSync' });
      assert.deepEqual([full.missing, full.extra], [[], []], describeDiff(full));
      // The tenant holds what the corruptions need.
      const perms = await store.db
        .selectFrom('permissions')
        .select(['is_external', 'invitation_email'])
        .execute();
      assert.ok(perms.some((p) => Number(p.is_external) === 1));
      assert.ok(perms.some((p) => p.invitation_email !== null));
    } finally {
      await store.close();
    }
  });

  for (const c of CORRUPTIONS)
    test(c.name, async () => {
      let changed = 0;
      const diff = await corrupted(async (store) => {
        changed = await exec(store, c.sql);
      });
      assert.ok(changed > 0, `the corruption changed rows (${c.sql})`);
      assert.ok(
        names(diff, c.expect.kind, c.expect.column),
        `${c.expect.kind}.${c.expect.column}\n${describeDiff(diff)}`,
      );
    });

  test('provisioned user-drive rows deleted', async () => {
    let deleted: string[] = [];
    const diff = await corrupted(async (store) => {
      deleted = (
        await store.db.selectFrom('user_drives').select('id').where('provisioned', '=', 1).execute()
      ).map((r) => r.id);
      await exec(store, 'delete from user_drives where provisioned = 1');
    });
    assert.ok(deleted.length > 0);
    for (const id of deleted) assert.ok(diff.missing.includes(JSON.stringify(['userDrive', id])), id);
  });

  test('the grants of Anyone links deleted', async () => {
    let deleted: string[][] = [];
    const diff = await corrupted(async (store) => {
      deleted = (
        await store.db
          .selectFrom('grants')
          .select(['drive_id', 'item_id', 'permission_id', 'recipient_key'])
          .where('recipient_kind', '=', 'anyone')
          .execute()
      ).map((g) => ['grant', g.drive_id, g.item_id, g.permission_id, g.recipient_key]);
      await exec(store, "delete from grants where recipient_kind = 'anyone'");
    });
    assert.ok(deleted.length > 0);
    for (const k of deleted) assert.ok(diff.missing.includes(JSON.stringify(k)), k.join(' '));
  });

  test('the whole history deleted', async () => {
    const diff = await corrupted(async (store) => {
      assert.ok((await exec(store, 'delete from changes')) > 0);
    });
    const history = diff.missing.filter((k) => k.startsWith('["history"'));
    const live = Object.entries(diff.counts)
      .filter(([k]) =>
        ['user', 'mfa', 'group', 'member', 'userDrive', 'drive', 'item', 'permission'].includes(k),
      )
      .reduce((s, [, v]) => s + v, 0);
    assert.equal(history.length, live, 'every live resource misses its added record');
  });

  test('a modified record faked into the history of a full sync', async () => {
    const diff = await corrupted(async (store) => {
      const item = await store.db
        .selectFrom('drive_items')
        .select(['drive_id', 'id', 'name'])
        .limit(1)
        .executeTakeFirstOrThrow();
      await store.db
        .insertInto('changes')
        .values({
          integration_id: 'int-oracle',
          tenant_id: suite.env.sim.tenantId,
          resource_type: 'drive_item',
          resource_id: item.id,
          drive_id: item.drive_id,
          item_id: null,
          group_id: null,
          change_type: 'modified',
          fields: JSON.stringify(['name']),
          before: JSON.stringify({ name: item.name }),
          after: JSON.stringify({ name: 'renamed.txt' }),
          actor: null,
          source: 'delta',
          observed_at: new Date().toISOString(),
        })
        .execute();
    });
    assert.ok(names(diff, 'history', 'name'), describeDiff(diff));
  });
});

describe('after mutations the oracle wants the history records they imply', () => {
  const suite = simulatorSuite({ ...SIM, seed: 29 }, 'dw-oracle-mut-');
  const base = () => suite.path('base.db');
  let n = 0;
  const ids: Record<'renamed' | 'deleted' | 'shared' | 'unshared', { driveId: string; itemId: string }> = {
    renamed: { driveId: '', itemId: '' },
    deleted: { driveId: '', itemId: '' },
    shared: { driveId: '', itemId: '' },
    unshared: { driveId: '', itemId: '' },
  };

  before(async () => {
    const store = await openStore({ file: base() });
    const client = simClient(suite.env.sim);
    const ctx = simContext(store, suite.env.sim, client, 'int-oracle');
    try {
      await syncIntegration(ctx, { mode: 'full' });
      const admin = suite.env.admin;
      const drive = (await admin.drives()).reduce((a, b) => (b.itemCount > a.itemCount ? b : a));
      const live = (await admin.items(drive.id)).filter((i) => !i.deleted && i.parentId !== null);
      const files = live.filter((i) => !i.isFolder && i.explicitPermissions === 0 && i.sharedScope === null);
      const unshared = live.find((i) => !i.isFolder && i.explicitPermissions > 0);
      assert.ok(files.length >= 3 && unshared, 'files to rename, delete and share; a shared file');
      const [renamed, deleted, shared] = files;
      await admin.mutate({
        op: 'renameItem',
        driveId: drive.id,
        itemId: renamed.id,
        name: `x ${renamed.name}`,
      });
      await admin.mutate({ op: 'deleteItem', driveId: drive.id, itemId: deleted.id });
      await admin.mutate({
        op: 'share',
        driveId: drive.id,
        itemId: shared.id,
        kind: 'external',
        email: 'eve@tailspin.io',
      });
      await admin.mutate({ op: 'unshare', driveId: drive.id, itemId: unshared.id });
      Object.assign(ids, {
        renamed: { driveId: drive.id, itemId: renamed.id },
        deleted: { driveId: drive.id, itemId: deleted.id },
        shared: { driveId: drive.id, itemId: shared.id },
        unshared: { driveId: drive.id, itemId: unshared.id },
      });
      const result = await syncIntegration(ctx, { mode: 'delta' });
      assert.deepEqual(result.errors, []);
    } finally {
      await client.close();
      await store.close();
    }
  });

  /** A copy of the synced store without the history rows `where` selects, compared with the truth. */
  async function withoutHistory(where: string): Promise<TruthDiff> {
    const file = suite.path(`case-${++n}.db`);
    copyFileSync(base(), file);
    const store = await openStore({ file });
    try {
      if (where) {
        const r = await sql.raw(`delete from changes where ${where}`).execute(store.db);
        assert.ok(Number(r.numAffectedRows) > 0, `history rows matched ${where}`);
      }
      return await diffWithTruth(store, 'int-oracle', suite.env.admin);
    } finally {
      await store.close();
    }
  }

  test('the history the sync wrote is exact; it is no full-sync history any more', async () => {
    const diff = await withoutHistory('');
    assert.deepEqual([diff.missing, diff.extra], [[], []], describeDiff(diff));
    const store = await openStore({ file: base() });
    try {
      const full = await diffWithTruth(store, 'int-oracle', suite.env.admin, { history: 'fullSync' });
      assert.ok(names(full, 'history', 'modified'), describeDiff(full));
    } finally {
      await store.close();
    }
  });

  const cases: Array<{ name: string; where: () => string; expect: (d: TruthDiff) => boolean }> = [
    {
      name: "the rename's modified record",
      where: () =>
        `resource_type = 'drive_item' and resource_id = '${ids.renamed.itemId}' and change_type = 'modified'`,
      expect: (d) => names(d, 'history', 'name'),
    },
    {
      name: "the delete's removed record",
      where: () =>
        `resource_type = 'drive_item' and resource_id = '${ids.deleted.itemId}' and change_type = 'removed'`,
      expect: (d) => names(d, 'history', 'live'),
    },
    {
      name: "the new permission's added records",
      where: () =>
        `resource_type = 'permission' and item_id = '${ids.shared.itemId}' and change_type = 'added'`,
      expect: (d) => names(d, 'history', 'added'),
    },
    {
      name: "the unshared permissions' removed records",
      where: () =>
        `resource_type = 'permission' and item_id = '${ids.unshared.itemId}' and change_type = 'removed'`,
      expect: (d) => names(d, 'history', 'live'),
    },
  ];
  for (const c of cases)
    test(`missing ${c.name} is named`, async () => {
      const diff = await withoutHistory(c.where());
      assert.ok(c.expect(diff), describeDiff(diff));
    });
});
