import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateFromOptions } from '../index.ts';

const opts = { seed: 42, users: 60, items: 3000, referenceTime: '2026-01-01T00:00:00Z' };

function fingerprint(t: ReturnType<typeof generateFromOptions>): string {
  const parts: string[] = [t.tenantId];
  for (const u of t.users)
    parts.push(
      `${u.id}|${u.userPrincipalName}|${u.accountEnabled}|${u.managerIdx}|${u.signIn?.lastSignInDateTime}`,
    );
  for (const g of t.groups) parts.push(`${g.id}|${g.displayName}|${g.members.join(',')}`);
  for (const d of t.drives) {
    parts.push(`${d.id}|${d.quotaUsed}|${d.quotaTotal}`);
    for (const i of d.items)
      parts.push(`${t.itemId(i)}|${t.pathOf(i)}|${t.items.size[i]}|${t.items.modified[i]}|${t.items.seq[i]}`);
  }
  for (const [i, ps] of [...t.perms.entries()].sort((a, b) => a[0] - b[0]))
    for (const p of ps)
      parts.push(`${i}|${p.id}|${p.linkScope}|${p.expiresMs}|${p.recipients.map((r) => r.email).join(',')}`);
  return parts.join('\n');
}

test('the tenant is a pure function of the seed and sizes', () => {
  const a = fingerprint(generateFromOptions(opts));
  const b = fingerprint(generateFromOptions(opts));
  assert.equal(a, b);
  const c = fingerprint(generateFromOptions({ ...opts, seed: 43 }));
  assert.notEqual(a, c);
});

test('users: members and guests with the directory quirks', () => {
  const t = generateFromOptions(opts);
  assert.equal(t.users.length, 60);
  const guests = t.users.filter((u) => u.userType === 'Guest');
  assert.ok(guests.length >= 3);
  for (const g of guests) {
    assert.match(g.userPrincipalName, /#EXT#@/);
    assert.equal(g.creationType, 'Invitation');
    assert.ok(g.externalUserState === 'Accepted' || g.externalUserState === 'PendingAcceptance');
    assert.equal(g.driveIdx, -1, 'guests have no OneDrive');
  }
  const members = t.users.filter((u) => u.userType === 'Member');
  assert.ok(
    members.every((u) => u.externalUserState === null && u.userPrincipalName.endsWith('@contoso.test')),
  );
  assert.ok(
    members.some((u) => !u.accountEnabled),
    'some disabled members',
  );
  assert.ok(members.some((u) => u.managerIdx >= 0));
  assert.ok(members.some((u) => u.assignedLicenses.some((l) => l.disabledPlans.length > 0)));
  assert.ok(
    members.some((u) => u.driveIdx < 0),
    'some unprovisioned members',
  );
  assert.ok(
    t.groups.some((g) => g.members.some((m) => t.groupById.has(m))),
    'nested groups',
  );
});

test('drives: quotas in all four states, consistent with used/total', () => {
  const t = generateFromOptions(opts);
  const states = new Set(t.drives.map((d) => t.quotaState(d)));
  assert.deepEqual([...states].sort(), ['critical', 'exceeded', 'nearing', 'normal']);
  for (const d of t.drives) {
    const left = d.quotaTotal - d.quotaUsed;
    const s = t.quotaState(d);
    if (s === 'exceeded') assert.ok(left <= 0);
    if (s === 'critical') assert.ok(left > 0 && left < d.quotaTotal * 0.01);
    if (s === 'nearing') assert.ok(left >= d.quotaTotal * 0.01 && left < d.quotaTotal * 0.1);
    if (s === 'normal') assert.ok(left >= d.quotaTotal * 0.1);
  }
});

test('items: realistic tree, sensitive names, parents after children, sharing ratios', () => {
  const t = generateFromOptions({ ...opts, items: 20_000, users: 40 });
  const it = t.items;
  assert.ok(Math.abs(it.length - 20_000) / 20_000 < 0.03, `item count ${it.length}`);
  const names = new Set<string>();
  for (let i = 0; i < it.length; i++) names.add(it.name[i]);
  for (const n of ['Documents', 'id_rsa', '.env', 'backup.kdbx', 'cert.pfx'])
    assert.ok(names.has(n), `has ${n}`);
  let parentsAfter = 0;
  let maxDepth = 0;
  for (let i = 0; i < it.length; i++) {
    const p = it.parent[i];
    if (p >= 0 && it.seq[p] > it.seq[i]) parentsAfter++;
    maxDepth = Math.max(maxDepth, t.pathOf(i).split('/').length - 1);
  }
  assert.ok(parentsAfter > 0, 'some parents get a later sequence than their children');
  assert.ok(maxDepth >= 3);
  const shared = t.perms.size / it.length;
  assert.ok(shared > 0.03 && shared < 0.08, `shared ratio ${shared}`);
  let anonymous = 0;
  const kinds = new Set<string>();
  for (const ps of t.perms.values())
    for (const p of ps) {
      if (p.linkScope === 'anonymous') anonymous++;
      kinds.add(p.kind === 'link' ? `link:${p.linkScope}` : `grant:${p.recipients[0].kind}`);
      if (p.recipients.some((r) => r.kind === 'consumer')) kinds.add('consumer');
    }
  assert.ok(
    anonymous / it.length > 0.005 && anonymous / it.length < 0.02,
    `anonymous ratio ${anonymous / it.length}`,
  );
  for (const k of [
    'link:organization',
    'link:users',
    'grant:internal',
    'grant:guest',
    'grant:external',
    'consumer',
    'grant:group',
  ])
    assert.ok(kinds.has(k), `permission kind ${k}`);
});

test('item ids round-trip and reject foreign or malformed ids', () => {
  const t = generateFromOptions(opts);
  const d0 = t.drives[0];
  const d1 = t.drives[1];
  for (const i of d0.items.slice(0, 50)) assert.equal(t.parseItemId(d0.idx, t.itemId(i)), i);
  assert.equal(t.parseItemId(d1.idx, t.itemId(d0.items[3])), -1);
  assert.equal(t.parseItemId(d0.idx, '01NOTANID'), -1);
  assert.equal(t.parseItemId(d0.idx, `${t.itemId(d0.items[3]).slice(0, 14)}!`), -1);
});
