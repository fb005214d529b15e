import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SimMutation, TruthRecord } from './contracts.ts';
import { generateFromOptions } from './index.ts';
import { applyModelMutation } from './model/mutate.ts';
import { Prng } from './model/prng.ts';
import type { Tenant } from './model/tenant.ts';
import { truthRecords } from './truth.ts';

/**
 * The truth's classifications and effective access follow the model: a folder shared with the
 * organization, a subfolder shared with an outside address, a file in it shared with Anyone.
 */

type Rec<K extends TruthRecord['kind']> = Extract<TruthRecord, { kind: K }>;

function setup() {
  // No generated sharing: every permission below is one this test makes.
  const t = generateFromOptions({ seed: 5, users: 12, items: 200, sharedRatio: 0, anonymousRatio: 0 });
  const ctx = {
    tenant: t,
    now: () => Date.parse('2026-01-01T00:00:00Z'),
    emit: () => {},
    rng: new Prng(5, 99),
  };
  const mutate = (m: SimMutation) => applyModelMutation(ctx, m) as Record<string, string>;
  const d = t.drives[0];
  const rootId = t.itemId(d.rootIdx);
  const a = mutate({ op: 'createItem', driveId: d.id, parentId: rootId, name: 'A', folder: true }).itemId;
  const b = mutate({ op: 'createItem', driveId: d.id, parentId: a, name: 'B', folder: true }).itemId;
  const f = mutate({ op: 'createItem', driveId: d.id, parentId: b, name: 'f.docx', size: 10 }).itemId;
  return { t, d, mutate, a, b, f };
}

function truth(t: Tenant) {
  const all = [...truthRecords(t)];
  const item = (id: string) =>
    all.find((r): r is Rec<'item'> => r.kind === 'item' && r.id === id) as Rec<'item'>;
  const perms = (itemId: string) =>
    all.filter((r): r is Rec<'permission'> => r.kind === 'permission' && r.itemId === itemId);
  const grants = (itemId: string) =>
    all.filter((r): r is Rec<'grant'> => r.kind === 'grant' && r.itemId === itemId);
  return { all, item, perms, grants };
}

test('truth: access roots and exposure follow sharing, nesting and unsharing', () => {
  const { t, d, mutate, a, b, f } = setup();
  const access = (id: string) => {
    const r = truth(t).item(id);
    return [r.accessRootId, r.exposure];
  };
  assert.deepEqual(access(f), [null, 'private']);

  mutate({ op: 'share', driveId: d.id, itemId: a, kind: 'organization' });
  for (const id of [a, b, f]) assert.deepEqual(access(id), [a, 'internal']);

  mutate({ op: 'share', driveId: d.id, itemId: b, kind: 'external', email: 'eve@tailspin.io' });
  assert.deepEqual(access(a), [a, 'internal']);
  assert.deepEqual(access(b), [b, 'external']);
  assert.deepEqual(access(f), [b, 'external']);

  mutate({ op: 'share', driveId: d.id, itemId: f, kind: 'anonymous' });
  assert.deepEqual(access(f), [f, 'public']);

  mutate({ op: 'unshare', driveId: d.id, itemId: b });
  assert.deepEqual(access(b), [a, 'internal']);
  assert.deepEqual(access(f), [f, 'public']);

  mutate({ op: 'unshare', driveId: d.id, itemId: a });
  assert.deepEqual(access(b), [null, 'private']);
});

test('truth: permissions and grants are classified from the recipient kinds', () => {
  const { t, d, mutate, a, b } = setup();
  mutate({ op: 'share', driveId: d.id, itemId: a, kind: 'organization' });
  mutate({ op: 'share', driveId: d.id, itemId: b, kind: 'external', email: 'Eve@Gmail.com' });
  const internal = t.users.find((u) => u.userType === 'Member' && u.accountEnabled && u.idx !== d.ownerIdx);
  assert.ok(internal);
  mutate({ op: 'share', driveId: d.id, itemId: b, kind: 'internal', email: internal.mail ?? '' });
  const { perms, grants } = truth(t);

  const ps = perms(b);
  assert.equal(ps.length, 4, 'owner, two own, one inherited');
  assert.ok(ps[0].isOwner && ps[0].roles[0] === 'owner');
  const ext = ps.find((p) => p.invitationEmail === 'eve@gmail.com') as Rec<'permission'>;
  assert.deepEqual(
    [ext.isExternal, ext.isGuest, ext.hasPersonalMailbox, ext.recipientDetails[0].kind],
    [true, true, true, 'consumer'],
  );
  assert.ok(ext.recipients.includes('i:0#.f|membership|urn:spo:guest#eve@gmail.com'));
  const own = ps.find((p) => p.recipientDetails[0]?.kind === 'internal') as Rec<'permission'>;
  assert.deepEqual([own.isExternal, own.isGuest, own.invitationEmail], [false, false, null]);
  const org = ps.find((p) => p.linkScope === 'organization') as Rec<'permission'>;
  assert.deepEqual([org.isExternal, org.recipients, org.linkWebUrl?.includes('/:f:/')], [false, [], true]);

  const gs = grants(b)
    .map((g) => `${g.recipientKind}/${g.audience}/${g.isOwner}`)
    .sort();
  assert.deepEqual(gs, [
    'external/external/false',
    'organization/internal/false',
    'user/internal/false',
    'user/none/true',
  ]);
  // Only sharing roots carry permissions and grants.
  assert.equal(perms(t.itemId(d.rootIdx)).length, 0);
});

test('truth: a B2B guest is guest and external; the MFA report lists enabled users only', () => {
  const { t, d, mutate, a } = setup();
  const guest = t.users.find((u) => u.userType === 'Guest' && !u.deleted);
  assert.ok(guest);
  mutate({ op: 'share', driveId: d.id, itemId: a, kind: 'guest', email: guest.mail ?? '' });
  const { all, perms, grants, item } = truth(t);
  const p = perms(a).find((x) => !x.isOwner) as Rec<'permission'>;
  assert.deepEqual([p.isExternal, p.isGuest, p.hasPersonalMailbox], [true, true, false]);
  assert.ok(p.recipients.some((r) => r.includes('#ext#')));
  assert.deepEqual(
    grants(a)
      .filter((g) => !g.isOwner)
      .map((g) => [g.recipientKind, g.audience]),
    [['guest', 'guest']],
  );
  assert.equal(item(a).exposure, 'external');
  const user = all.find((r): r is Rec<'user'> => r.kind === 'user' && r.id === guest.id) as Rec<'user'>;
  assert.equal(user.isGuest, true);
  const mfa = all.filter((r): r is Rec<'mfa'> => r.kind === 'mfa').map((m) => m.userId);
  assert.deepEqual(
    mfa.sort(),
    t.users
      .filter((u) => !u.deleted && u.accountEnabled)
      .map((u) => u.id)
      .sort(),
  );
});
