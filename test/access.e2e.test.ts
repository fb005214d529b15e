import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SimAdminError } from '../sim/admin-client.ts';
import type { SimMutation, TruthRecord } from '../sim/contracts.ts';
import { Prng } from '../sim/model/prng.ts';
import { whatCanReach, whoCanReach } from '../src/access/reach.ts';
import { syncIntegration } from '../src/collect/sync.ts';
import type { Store } from '../src/store/store.ts';
import { simContext, simulatorSuite } from './support/collector.ts';
import { describeDiff, diffWithTruth } from './support/truth.ts';

/**
 * Effective access end to end: the simulator's tenant collected, then 2,000 random user
 * actions (moves across sharing roots, sharing and unsharing files and parent folders,
 * deleting shared folders, creating, renaming) followed by delta runs. After the full sync
 * and after the mutations, every item's access root and exposure equal what the
 * simulator's ground truth implies, and "who can reach X" / "what can Y reach" answer from it.
 */

const SIM = { seed: 31, users: 12, items: 900 };
const suite = simulatorSuite(SIM, 'dw-access-e2e-');

interface Truth {
  items: Map<string, { driveId: string; parentId: string | null }>;
  /** Non-owner permissions per sharing root (key drive|item), as the truth lists them. */
  roots: Map<string, Array<Extract<TruthRecord, { kind: 'permission' }>>>;
  members: Map<string, Set<string>>; // group id → transitive members
  users: Array<Extract<TruthRecord, { kind: 'user' }>>;
}

async function readTruth(records: AsyncIterable<TruthRecord>): Promise<Truth> {
  const t: Truth = { items: new Map(), roots: new Map(), members: new Map(), users: [] };
  for await (const r of records) {
    if (r.kind === 'item') t.items.set(`${r.driveId}|${r.id}`, { driveId: r.driveId, parentId: r.parentId });
    if (r.kind === 'user') t.users.push(r);
    if (r.kind === 'member') {
      const set = t.members.get(r.groupId) ?? new Set<string>();
      set.add(r.memberId);
      t.members.set(r.groupId, set);
    }
    if (r.kind === 'permission') {
      const k = `${r.driveId}|${r.itemId}`;
      const list = t.roots.get(k) ?? [];
      if (!r.roles.includes('owner')) list.push(r);
      t.roots.set(k, list);
    }
  }
  return t;
}

/** Exposure from the truth's permissions, classified by their recipients' login names. */
function exposureOf(perms: Array<Extract<TruthRecord, { kind: 'permission' }>>): string {
  if (perms.some((p) => p.linkScope === 'anonymous')) return 'public';
  // Guests (#ext#), outside addresses (urn:spo:guest) and SharePoint's "Everyone" claim reach outside.
  const outside = (r: string) => r.includes('#ext#') || r.includes('urn:spo:guest') || r === 'c:0(.s|true';
  if (perms.some((p) => p.recipients.some(outside))) return 'external';
  return perms.length > 0 ? 'internal' : 'private';
}

function expectedAccess(t: Truth): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, item] of t.items) {
    let root: string | null = null;
    for (let cur: string | null = key.split('|')[1]; cur; ) {
      if (t.roots.has(`${item.driveId}|${cur}`)) {
        root = cur;
        break;
      }
      cur = t.items.get(`${item.driveId}|${cur}`)?.parentId ?? null;
    }
    out.set(
      key,
      `${root ?? '-'} ${root ? exposureOf(t.roots.get(`${item.driveId}|${root}`) ?? []) : 'private'}`,
    );
  }
  return out;
}

async function storedAccess(store: Store): Promise<Map<string, string>> {
  const rows = await store.db
    .selectFrom('drive_items')
    .select(['drive_id', 'id', 'access_root_id', 'exposure'])
    .where('deleted_at', 'is', null)
    .execute();
  return new Map(
    rows.map((r) => [`${r.drive_id}|${r.id}`, `${r.access_root_id ?? '-'} ${r.exposure ?? 'pending'}`]),
  );
}

function differences(actual: Map<string, string>, expected: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [k, v] of expected)
    if (actual.get(k) !== v) out.push(`${k}: stored ${actual.get(k)}, truth ${v}`);
  for (const k of actual.keys()) if (!expected.has(k)) out.push(`${k}: stored, not in the truth`);
  return out;
}

async function mutate(admin: typeof suite.env.admin, m: SimMutation): Promise<boolean> {
  try {
    await admin.mutate(m);
    return true;
  } catch (err) {
    if (err instanceof SimAdminError) return false;
    throw err;
  }
}

describe('effective access against the simulator', () => {
  test('full sync, 2,000 random mutations: access roots and exposure equal the ground truth; reach queries answer from them', async () => {
    await suite.withStore('access', async (store, client) => {
      const { sim, admin } = suite.env;
      const ctx = simContext(store, sim, client, 'int-access');
      await syncIntegration(ctx, { mode: 'full' });
      let truth = await readTruth(admin.truth());
      assert.deepEqual(
        differences(await storedAccess(store), expectedAccess(truth)),
        [],
        'after the full sync',
      );
      const exposures = new Set([...expectedAccess(truth).values()].map((v) => v.split(' ')[1]));
      assert.ok(
        exposures.has('public') && exposures.has('internal') && exposures.has('private'),
        `kinds: ${[...exposures]}`,
      );

      // Who can reach a shared item: every non-owner permission of its root, groups expanded.
      const [rootKey, perms] = [...truth.roots].find(([, ps]) => ps.length > 0) ?? [];
      assert.ok(rootKey && perms);
      const [driveId, rootId] = rootKey.split('|');
      const child = [...truth.items].find(([, v]) => v.parentId === rootId)?.[0].split('|')[1] ?? rootId;
      const who = await whoCanReach(store.db, 'int-access', driveId, child);
      assert.equal(who.accessRootId, rootId);
      assert.deepEqual(
        new Set(
          who.accessors.filter((a) => a.via !== 'owner' && a.via !== 'group').map((a) => a.permissionId),
        ),
        new Set(perms.map((p) => p.id)),
      );
      assert.ok(
        who.accessors.some((a) => a.via === 'owner'),
        'the owner entry is listed',
      );

      // What can a user reach: the roots whose permissions name them, their groups' grants, organization links.
      const member = truth.users.find((u) => u.userType === 'Member' && u.accountEnabled);
      assert.ok(member);
      const reach = await whatCanReach(store.db, 'int-access', member.userPrincipalName, {
        limit: 100_000,
        listLinkRoots: true,
      });
      const login = `i:0#.f|membership|${member.userPrincipalName.toLowerCase()}`;
      const groups = [...truth.members].filter(([, m]) => m.has(member.id)).map(([g]) => g);
      const expectedRoots = new Set<string>();
      for (const [k, ps] of truth.roots)
        for (const p of ps)
          if (
            p.linkScope === 'organization' ||
            p.recipients.includes(login) ||
            groups.some((g) => p.recipients.includes(`c:0o.c|federateddirectoryclaimprovider|${g}`))
          )
            expectedRoots.add(k);
      assert.deepEqual(
        new Set(reach.roots.filter((r) => r.rootId).map((r) => `${r.driveId}|${r.rootId}`)),
        expectedRoots,
      );
      // Without listing them, organization links are counted, and their items still listed.
      const orgLinks = [...truth.roots.values()].flat().filter((p) => p.linkScope === 'organization').length;
      const brief = await whatCanReach(store.db, 'int-access', member.userPrincipalName, { limit: 100_000 });
      assert.equal(brief.linkRoots.organization, orgLinks);
      assert.ok(brief.roots.every((r) => r.via !== 'organization_link'));
      assert.deepEqual(
        new Set(brief.items.map((i) => `${i.driveId}|${i.id}`)),
        new Set(reach.items.map((i) => `${i.driveId}|${i.id}`)),
        'the same items either way',
      );

      // 2,000 random actions, weighted to what moves access: moves, shares, unshares, deletes.
      const rng = new Prng(SIM.seed, 9);
      const drives = await admin.drives();
      let applied = 0;
      for (let n = 0; n < 2000; n++) {
        const d = rng.pick(drives).id;
        const items = (await admin.items(d)).filter((i) => !i.deleted);
        const nonRoot = items.filter((i) => i.parentId !== null);
        const folders = items.filter((i) => i.isFolder);
        if (nonRoot.length === 0) continue;
        const target = rng.pick(
          rng.chance(0.5) ? nonRoot.filter((i) => i.isFolder).concat(nonRoot.slice(0, 1)) : nonRoot,
        );
        const kind = rng.pick([
          'anonymous',
          'organization',
          'users',
          'guest',
          'external',
          'internal',
        ] as const);
        const choices: SimMutation[] = [
          { op: 'moveItem', driveId: d, itemId: target.id, newParentId: rng.pick(folders).id },
          { op: 'moveItem', driveId: d, itemId: target.id, newParentId: rng.pick(folders).id },
          {
            op: 'share',
            driveId: d,
            itemId: target.id,
            kind,
            linkType: rng.chance(0.5) ? 'view' : 'edit',
            ...(kind === 'users' || kind === 'external' ? { email: `p${n}@fabrikam.example` } : {}),
          },
          { op: 'share', driveId: d, itemId: target.id, kind: 'anonymous' },
          { op: 'unshare', driveId: d, itemId: target.id },
          { op: 'deleteItem', driveId: d, itemId: target.id },
          { op: 'createItem', driveId: d, parentId: rng.pick(folders).id, name: `f${n}`, folder: true },
          { op: 'createItem', driveId: d, parentId: rng.pick(folders).id, name: `n${n}.docx`, size: 10 },
          { op: 'renameItem', driveId: d, itemId: target.id, name: `r${n}${target.isFolder ? '' : '.txt'}` },
        ];
        if (await mutate(admin, rng.pick(choices))) applied++;
        if (n % 250 === 249) await syncIntegration(ctx, { mode: 'delta' });
      }
      assert.ok(applied > 1500, `most actions applied (${applied})`);
      await syncIntegration(ctx, { mode: 'delta' });
      truth = await readTruth(admin.truth());
      assert.deepEqual(
        differences(await storedAccess(store), expectedAccess(truth)),
        [],
        'after the mutations',
      );
      // The whole oracle too: every column, the grants, exposure from the simulator's model, the history.
      const diff = await diffWithTruth(store, 'int-access', admin);
      assert.deepEqual([diff.missing, diff.extra], [[], []], describeDiff(diff));
    });
  });
});
