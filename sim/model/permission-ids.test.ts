/** Permission ids are unique in what GET /drives/{d}/items/{i}/permissions returns (owner + explicit + inherited). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateFromOptions, resolveOptions } from '../index.ts';
import { Runtime } from '../runtime.ts';
import { itemPermissions } from '../server/drives.ts';
import type { Tenant } from './tenant.ts';

function duplicateIds(t: Tenant): string[] {
  const out: string[] = [];
  for (let i = 0; i < t.items.length; i++) {
    if (t.items.isDeleted(i)) continue;
    const ids = itemPermissions(t, i).map((p) => p.id as string);
    const seen = new Set<string>();
    for (const id of ids) {
      if (seen.has(id)) out.push(`${t.itemId(i)} ${t.pathOf(i)}: ${id}`);
      seen.add(id);
    }
  }
  return out;
}

test('generated tenants list every permission id once per item (seeds 7, 11, 12 among others)', () => {
  for (const [seed, users, items] of [
    [7, 24, 2500],
    [11, 24, 2500],
    [12, 12, 800],
    [1, 50, 2000],
    [42, 60, 3000],
  ]) {
    const t = generateFromOptions({ seed, users, items, referenceTime: '2026-01-01T00:00:00Z' });
    assert.deepEqual(duplicateIds(t), [], `seed ${seed}`);
  }
});

test('share and move keep permission ids unique: same person on folder and child, twice, and the owner', () => {
  const o = resolveOptions({ seed: 5, users: 12, items: 300, referenceTime: '2026-01-01T00:00:00Z' });
  const rt = new Runtime(generateFromOptions(o), o);
  const t = rt.tenant;
  const d = t.drives[0];
  const root = t.itemId(d.rootIdx);
  const owner = t.users[d.ownerIdx];
  const person = t.users.find((u) => u.userType === 'Member' && u.accountEnabled && u !== owner)!;
  const mk = (name: string, parentId: string, folder = false) =>
    (rt.mutate({ op: 'createItem', driveId: d.id, parentId, name, folder }) as { itemId: string }).itemId;
  const folder = mk('Shared with Pat', root, true);
  const child = mk('plan.docx', folder);
  const other = mk('Elsewhere', root, true);
  const loose = mk('notes.txt', other);
  const grant = (itemId: string, email: string, linkType: 'view' | 'edit' = 'view') =>
    (
      rt.mutate({ op: 'share', driveId: d.id, itemId, kind: 'internal', email, linkType }) as {
        permissionId: string;
      }
    ).permissionId;
  const ids = [
    grant(folder, person.mail!),
    grant(child, person.mail!),
    grant(child, person.mail!, 'edit'),
    grant(child, owner.mail!),
    grant(loose, person.mail!, 'edit'),
  ];
  assert.equal(new Set(ids).size, ids.length, 'every share answers a new id');
  const listed = (itemId: string) =>
    itemPermissions(t, t.parseItemId(d.idx, itemId)).map((p) => p.id as string);
  const onChild = listed(child);
  assert.equal(onChild.length, 5, 'owner + 3 explicit + 1 inherited');
  assert.equal(new Set(onChild).size, onChild.length);
  // a move brings the loose file's grant under the folder's grant to the same person
  rt.mutate({ op: 'moveItem', driveId: d.id, itemId: loose, newParentId: folder });
  const onLoose = listed(loose);
  assert.equal(onLoose.length, 3, 'owner + own + inherited');
  assert.equal(new Set(onLoose).size, onLoose.length);
  assert.deepEqual(duplicateIds(t), []);
  // unsharing one of two grants to the same person removes exactly that one
  rt.mutate({ op: 'unshare', driveId: d.id, itemId: child, permissionId: ids[1] });
  assert.deepEqual(
    listed(child).filter((id) => ids.includes(id)),
    [ids[2], ids[3], ids[0]],
  );
});
