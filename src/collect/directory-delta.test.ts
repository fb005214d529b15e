import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { TruthRecord } from '../../sim/contracts.ts';
import { simContext, simulatorSuite } from '../../test/support/collector.ts';
import { describeDiff, diffWithTruth } from '../../test/support/truth.ts';
import { GraphError } from '../graph/errors.ts';
import type { GraphClient, GraphRequest } from '../graph/types.ts';
import { decodeValue } from '../store/codec.ts';
import type { Store } from '../store/store.ts';
import { getSyncState, listSyncErrors } from '../store/sync-state.ts';
import { statsDelta } from './context.ts';
import {
  collectGroupsDelta,
  collectUsersDelta,
  GROUPS_DELTA_SCOPE,
  syncGroups,
  syncUsers,
  USERS_DELTA_SCOPE,
} from './directory-delta.ts';
import { syncIntegration } from './sync.ts';

// More than 100 users so that a users delta enumeration takes several pages (the simulator serves 100).
const SIM = { seed: 11, users: 230, items: 900, timeScale: 20 };

async function historyRows(store: Store, integrationId: string) {
  const rows = await store.db
    .selectFrom('changes')
    .selectAll()
    .where('integration_id', '=', integrationId)
    .orderBy('id')
    .execute();
  return rows.map((r) => ({
    ...r,
    fields: decodeValue('json', r.fields) as string[],
    before: decodeValue('json', r.before) as Record<string, unknown> | null,
    after: decodeValue('json', r.after) as Record<string, unknown> | null,
  }));
}

type History = Awaited<ReturnType<typeof historyRows>>;

function assertNoDuplicates(h: History) {
  const keys = h.map(
    (c) => `${c.resource_type}|${c.group_id}|${c.drive_id}|${c.resource_id}|${c.change_type}`,
  );
  assert.equal(new Set(keys).size, keys.length, 'one history row per change');
}

/** A client whose first delta request carrying a $deltatoken fails (410 resync / expired token). */
function failingDeltaClient(base: GraphClient, status: number, code: string, path: RegExp) {
  let fired = 0;
  const client: GraphClient = {
    request: (req) => base.request(req),
    batch: (reqs) => base.batch(reqs),
    stats: () => base.stats(),
    close: () => base.close(),
    pages: async function* <T>(req: GraphRequest) {
      if (fired === 0 && path.test(req.url) && /\$deltatoken=/i.test(req.url)) {
        fired++;
        throw new GraphError({
          status,
          code,
          message: `${code} (test)`,
          url: req.url,
          resource: req.resource,
        });
      }
      yield* base.pages<T>(req);
    },
  };
  return { client, fired: () => fired };
}

describe('directory delta against the simulator', () => {
  const suite = simulatorSuite(SIM, 'dw-dirdelta-');
  const withStore = suite.withStore.bind(suite);

  const exact = async (store: Store, integrationId: string) => {
    const diff = await diffWithTruth(store, integrationId, suite.env.admin);
    assert.equal(diff.missing.length + diff.extra.length, 0, describeDiff(diff));
  };

  const truthGroups = async () => {
    const truth = await suite.env.admin.truthArray();
    const groups = truth.filter((r): r is Extract<TruthRecord, { kind: 'group' }> => r.kind === 'group');
    const members = truth.filter((r): r is Extract<TruthRecord, { kind: 'member' }> => r.kind === 'member');
    const of = (name: string) => {
      const g = groups.find((x) => x.displayName === name);
      assert.ok(g, `group ${name}`);
      return { id: g.id, members: new Set(members.filter((m) => m.groupId === g.id).map((m) => m.memberId)) };
    };
    return { of, members };
  };

  test('mutations → users and groups delta: exact, with the right history; an unchanged round is cheap', async () => {
    await suite.env.admin.setFaults([]);
    await withStore('mutations', async (store, client) => {
      const id = 'int-dd';
      const ctx = simContext(store, suite.env.sim, client, id);
      const full = await syncIntegration(ctx, { mode: 'full' });
      assert.deepEqual(full.errors, []);
      await exact(store, id);
      // Full mode leaves a deltaLink for both feeds.
      assert.ok((await getSyncState(store.db, id, USERS_DELTA_SCOPE))?.deltaLink);
      assert.ok((await getSyncState(store.db, id, GROUPS_DELTA_SCOPE))?.deltaLink);

      // What a full directory read costs (users + sign-in, MFA, groups + transitive members, drive discovery).
      const s0 = client.stats();
      await syncIntegration(ctx, { mode: 'full', items: false });
      const fullDir = statsDelta(client.stats(), s0);
      // Users and groups only (listing + sign-in + managers; every group's transitive members).
      const s00 = client.stats();
      await syncUsers(ctx, 'full');
      await syncGroups(ctx, 'full');
      const fullUsersGroups = statsDelta(client.stats(), s00);

      // An unchanged round: no history, one delta call per feed.
      const mark0 = (await historyRows(store, id)).length;
      const s1 = client.stats();
      const u0 = await collectUsersDelta(ctx, 'poll');
      const g0 = await collectGroupsDelta(ctx, 'poll');
      const idle = statsDelta(client.stats(), s1);
      assert.equal(u0.kind, 'incremental');
      assert.equal(g0.kind, 'incremental');
      assert.equal(u0.changes + g0.changes, 0);
      assert.equal(g0.membersReread, 0);
      assert.equal((await historyRows(store, id)).length, mark0, 'an unchanged round writes no history');
      assert.equal(idle.requests, 2, 'only the two delta calls');
      console.log(
        `directory: unchanged delta round ${idle.ruSpent} RU / ${idle.requests} requests; full users+groups read ${fullUsersGroups.ruSpent} RU / ${fullUsersGroups.requests} requests; full directory read (with MFA and drive discovery) ${fullDir.ruSpent} RU / ${fullDir.requests} requests`,
      );

      // Mutations.
      const users = await suite.env.admin.users();
      const managed = new Set(users.map((u) => u.managerId).filter(Boolean));
      const noDrive = users.filter((u) => u.driveId === null && u.userType === 'Member');
      const victim = noDrive.find((u) => managed.has(u.id)) ?? noDrive[0];
      assert.ok(victim, 'a member without a OneDrive to delete');
      const reportsOfVictim = users.filter((u) => u.managerId === victim.id).map((u) => u.id);
      const disabled = users.find(
        (u) => u.accountEnabled && u.userType === 'Member' && u.id !== victim.id && u.driveId !== null,
      );
      assert.ok(disabled);
      const mfaBefore = await store.db
        .selectFrom('user_mfa')
        .select('id')
        .where('integration_id', '=', id)
        .where('id', '=', disabled.id)
        .where('deleted_at', 'is', null)
        .executeTakeFirst();
      assert.ok(mfaBefore, 'the user to disable has an MFA row');
      const guest = await suite.env.admin.mutate<{ userId: string }>({
        op: 'addGuest',
        email: 'new.partner@fabrikam-partner.example',
        displayName: 'New Partner',
      });
      await suite.env.admin.mutate({ op: 'disableUser', userId: disabled.id });
      const before = await truthGroups();
      const victimGroups = [...before.members].filter((m) => m.memberId === victim.id).map((m) => m.groupId);
      assert.ok(victimGroups.length > 0, 'the deleted user was in groups');
      await suite.env.admin.mutate({ op: 'deleteUser', userId: victim.id });
      // Nested: Security Admins is inside All Company, so the guest becomes a transitive member of both.
      const admins = before.of('Security Admins');
      const company = before.of('All Company');
      assert.ok(company.members.has(admins.id), 'Security Admins is nested in All Company');
      await suite.env.admin.mutate({ op: 'addGroupMember', groupId: admins.id, memberId: guest.userId });
      const leads = before.of('Engineering Leads');
      const engineering = before.of('Engineering');
      const leaving = [...leads.members].find((m) => m !== victim.id) as string;
      await suite.env.admin.mutate({ op: 'removeGroupMember', groupId: leads.id, memberId: leaving });
      const after = await truthGroups();
      const engineeringLoses = !after.of('Engineering').members.has(leaving);

      const mark = (await historyRows(store, id)).length;
      const u1 = await collectUsersDelta(ctx, 'poll');
      const g1 = await collectGroupsDelta(ctx, 'poll');
      assert.equal(u1.kind, 'incremental');
      assert.equal(g1.kind, 'incremental');
      assert.ok(g1.membersReread > 0);
      await exact(store, id);

      const h = (await historyRows(store, id)).slice(mark);
      assertNoDuplicates(h);
      assert.ok(
        h.every((c) => c.source === 'poll'),
        h.map((c) => c.source).join(),
      );
      const of = (type: string, rid: string, groupId?: string) =>
        h.filter(
          (c) =>
            c.resource_type === type &&
            c.resource_id === rid &&
            (groupId === undefined || c.group_id === groupId),
        );
      // disable: modified, with the field; the MFA report no longer lists the user
      const dis = of('user', disabled.id);
      assert.equal(dis.length, 1);
      assert.equal(dis[0].change_type, 'modified');
      assert.deepEqual(dis[0].fields, ['account_enabled']);
      assert.equal(dis[0].before?.account_enabled, true);
      assert.equal(dis[0].after?.account_enabled, false);
      assert.equal(of('user_mfa', disabled.id)[0]?.change_type, 'removed');
      // the guest: added, with its MFA registration and "no OneDrive"
      const g = of('user', guest.userId);
      assert.equal(g.length, 1);
      assert.equal(g[0].change_type, 'added');
      assert.equal(g[0].after?.is_guest, true);
      assert.equal(of('user_mfa', guest.userId)[0]?.change_type, 'added');
      assert.equal(of('user_drive', guest.userId)[0]?.change_type, 'added');
      // the deleted user: removed, with its memberships, drive mapping and MFA row
      const del = of('user', victim.id);
      assert.equal(del.length, 1);
      assert.equal(del[0].change_type, 'removed');
      assert.equal(of('user_drive', victim.id)[0]?.change_type, 'removed');
      const lostMemberships = h.filter(
        (c) => c.resource_type === 'group_member' && c.resource_id === victim.id,
      );
      assert.ok(lostMemberships.length >= victimGroups.length);
      assert.ok(lostMemberships.every((c) => c.change_type === 'removed'));
      for (const r of reportsOfVictim) {
        const m = of('user', r);
        assert.equal(m.length, 1, 'reports of the deleted manager lose their manager');
        assert.deepEqual(m[0].fields, ['manager_id']);
      }
      // group members: added to the group and to the group that contains it; removed
      assert.equal(of('group_member', guest.userId, admins.id)[0]?.change_type, 'added');
      assert.equal(of('group_member', guest.userId, company.id)[0]?.change_type, 'added');
      assert.equal(of('group_member', leaving, leads.id)[0]?.change_type, 'removed');
      assert.equal(of('group_member', leaving, engineering.id).length, engineeringLoses ? 1 : 0);
      // Nothing else changed.
      const expectedTypes = new Set(['user', 'user_mfa', 'user_drive', 'group_member']);
      assert.deepEqual(
        h
          .filter((c) => !expectedTypes.has(c.resource_type))
          .map((c) => `${c.resource_type} ${c.resource_id}`),
        [],
      );

      // And the next round is quiet again.
      const s2 = client.stats();
      const u2 = await collectUsersDelta(ctx, 'poll');
      const g2 = await collectGroupsDelta(ctx, 'poll');
      assert.equal(u2.changes + g2.changes, 0);
      assert.equal(statsDelta(client.stats(), s2).requests, 2);
    });
  });

  test('first delta round without a deltaLink enumerates page by page and reconciles', async () => {
    await suite.env.admin.setFaults([]);
    await withStore('enumerate', async (store, client) => {
      const id = 'int-enum';
      const ctx = simContext(store, suite.env.sim, client, id);
      await syncIntegration(ctx, { mode: 'full' });
      // Forget the delta checkpoints (e.g. a store from before directory delta), and let a user go.
      await store.db
        .deleteFrom('sync_state')
        .where('integration_id', '=', id)
        .where('scope', 'in', [USERS_DELTA_SCOPE, GROUPS_DELTA_SCOPE])
        .execute();
      const users = await suite.env.admin.users();
      const gone = users.find((u) => u.driveId === null) as { id: string };
      await suite.env.admin.mutate({ op: 'deleteUser', userId: gone.id });
      const mark = (await historyRows(store, id)).length;
      const u = await collectUsersDelta(ctx, 'delta');
      const g = await collectGroupsDelta(ctx, 'delta');
      assert.equal(u.kind, 'enumeration');
      assert.ok(u.pages >= 3, `several pages (${u.pages})`);
      assert.equal(g.kind, 'enumeration');
      await exact(store, id);
      const h = (await historyRows(store, id)).slice(mark);
      assertNoDuplicates(h);
      // Unchanged users got no history from the enumeration; the user that went is removed by the sweep
      // (and its reports lose their manager).
      const reports = new Set(users.filter((x) => x.managerId === gone.id).map((x) => x.id));
      const userChanges = h.filter((c) => c.resource_type === 'user');
      assert.deepEqual(
        userChanges.filter((c) => c.change_type !== 'modified').map((c) => [c.resource_id, c.change_type]),
        [[gone.id, 'removed']],
      );
      for (const c of userChanges.filter((x) => x.change_type === 'modified')) {
        assert.ok(reports.has(c.resource_id), c.resource_id);
        assert.deepEqual(c.fields, ['manager_id']);
      }
      const state = await getSyncState(store.db, id, USERS_DELTA_SCOPE);
      assert.equal(state?.phase, 'idle');
      assert.ok(state?.deltaLink && state.lastFullSyncAt);
    });
  });

  test('a 410 or an expired token on directory delta: fresh enumeration, reconciled with source resync', async () => {
    await suite.env.admin.setFaults([]);
    await withStore('resync', async (store, base) => {
      const id = 'int-resync';
      await syncIntegration(simContext(store, suite.env.sim, base, id), { mode: 'full' });
      const users410 = failingDeltaClient(base, 410, 'resyncRequired', /\/users\/delta/);
      const groups400 = failingDeltaClient(base, 400, 'syncStateNotFound', /\/groups\/delta/);
      const users = await suite.env.admin.users();
      const gone =
        users.find((u) => u.driveId === null && u.userType === 'Guest') ??
        (users.find((u) => u.driveId === null) as { id: string });
      await suite.env.admin.mutate({ op: 'deleteUser', userId: gone.id });
      const mark = (await historyRows(store, id)).length;
      const u = await collectUsersDelta(simContext(store, suite.env.sim, users410.client, id), 'poll');
      const g = await collectGroupsDelta(simContext(store, suite.env.sim, groups400.client, id), 'poll');
      assert.equal(users410.fired(), 1);
      assert.equal(groups400.fired(), 1);
      assert.ok(u.resynced && u.kind === 'enumeration');
      assert.ok(g.resynced && g.kind === 'enumeration');
      await exact(store, id);
      const h = (await historyRows(store, id)).slice(mark);
      assertNoDuplicates(h);
      const removed = h.filter((c) => c.resource_type === 'user' && c.resource_id === gone.id);
      assert.equal(removed.length, 1);
      assert.equal(removed[0].change_type, 'removed');
      assert.equal(removed[0].source, 'resync');
      assert.ok((await getSyncState(store.db, id, USERS_DELTA_SCOPE))?.deltaLink);
    });
  });

  test('a 403 on users is an error for users; groups delta and the rest go on', async () => {
    await withStore('forbidden', async (store, client) => {
      const id = 'int-dd403';
      const ctx = simContext(store, suite.env.sim, client, id);
      await suite.env.admin.setFaults([]);
      await syncIntegration(ctx, { mode: 'full' });
      const { of } = await truthGroups();
      const users = await suite.env.admin.users();
      const admins = of('Security Admins');
      const newcomer = users.find((u) => !admins.members.has(u.id) && u.accountEnabled) as { id: string };
      const target = users.find((u) => u.accountEnabled && u.id !== newcomer.id) as { id: string };
      await suite.env.admin.setFaults([{ kind: 'forbidden403', resourceType: 'users' }]);
      try {
        await suite.env.admin.mutate({ op: 'addGroupMember', groupId: admins.id, memberId: newcomer.id });
        await suite.env.admin.mutate({ op: 'disableUser', userId: target.id });
        // The real-time path: the users delta records the error, the groups delta still applies.
        const u = await collectUsersDelta(ctx, 'webhook');
        assert.equal(u.denied?.code, 'Authorization_RequestDenied');
        const g = await collectGroupsDelta(ctx, 'webhook');
        assert.equal(g.denied, undefined);
        assert.ok(g.membersReread > 0);
        const member = await store.db
          .selectFrom('group_members')
          .select('id')
          .where('integration_id', '=', id)
          .where('group_id', '=', admins.id)
          .where('id', '=', newcomer.id)
          .where('deleted_at', 'is', null)
          .executeTakeFirst();
        assert.ok(member, 'membership change applied despite the users 403');
        const errors = await listSyncErrors(store.db, id, { open: true });
        assert.deepEqual(
          errors.map((e) => [e.resource_type, e.status]),
          [['user', 403]],
        );
        assert.ok(errors[0].request_id);
        // syncIntegration in delta mode: users is reported, everything else is collected.
        const r = await syncIntegration(ctx, { mode: 'delta' });
        assert.equal(r.resources.user, 'Authorization_RequestDenied', JSON.stringify(r.resources));
        assert.equal(r.resources.group, 'ok');
        assert.equal(r.resources.drive_item, 'ok');
        const diff = await diffWithTruth(store, id, suite.env.admin);
        // Only the disabled user (and its MFA state, which rides on the user row) differs.
        assert.deepEqual(
          [...diff.missing, ...diff.extra].filter((k) => !k.includes(target.id)),
          [],
          describeDiff(diff),
        );
      } finally {
        await suite.env.admin.setFaults([]);
      }
      // Once the permission is back the error resolves and the inventory is exact.
      const r = await syncIntegration(ctx, { mode: 'delta' });
      assert.deepEqual(r.errors, []);
      assert.equal((await listSyncErrors(store.db, id, { open: true })).length, 0);
      await exact(store, id);
    });
  });
});
