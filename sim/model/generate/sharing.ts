/** Sharing: links and direct grants on a share of the items, with recipients of every kind. */
import { CONSUMER_DOMAINS, EXTERNAL_DOMAINS, FIRST_NAMES, LAST_NAMES } from '../names.ts';
import { Prng } from '../prng.ts';
import type { LinkScope, SimPermission, SimRecipient, SimUser, Tenant } from '../tenant.ts';
import { uniquePermissionId } from '../tenant.ts';
import { DAY } from '../time.ts';
import type { GenerateOptions } from './options.ts';
import type { Population } from './users.ts';

export function generateSharing(t: Tenant, o: GenerateOptions, people: Population): void {
  // Its own PRNG stream: the sharing does not shift when users, groups or items draw differently.
  const sr = new Prng(o.seed, 7);
  const internal = people.members.filter((u) => u.accountEnabled);
  for (const d of t.drives) {
    const owner = t.users[d.ownerIdx];
    for (const i of d.items) {
      if (i === d.rootIdx) continue;
      const r = sr.next();
      if (r >= Math.max(o.sharedRatio, o.anonymousRatio)) continue;
      t.perms.set(i, itemSharing(t, sr, o, i, r, owner, internal, people.guests));
    }
  }
  uniquePermissionIds(t);
}

/** The permissions of one shared item (`r`, its draw, below the anonymous ratio: an Anyone link first). */
function itemSharing(
  t: Tenant,
  sr: Prng,
  o: GenerateOptions,
  i: number,
  r: number,
  owner: SimUser,
  internal: SimUser[],
  guests: SimUser[],
): SimPermission[] {
  const ref = o.referenceMs;
  const perms: SimPermission[] = [];
  const when = t.items.created[i] + sr.next() * (ref - t.items.created[i]);
  if (r < o.anonymousRatio) perms.push(makeLink(t, sr, 'anonymous', owner, when, ref));
  const extra = r < o.anonymousRatio ? (sr.chance(0.3) ? 1 : 0) : sr.int(1, 3);
  for (let e = 0; e < extra; e++) {
    const kind = sr.weighted(
      ['organization', 'users', 'internal', 'guest', 'external', 'consumer', 'group'] as const,
      [30, 18, 25, 8, 7, 6, 6],
    );
    if (kind === 'organization') perms.push(makeLink(t, sr, 'organization', owner, when, ref));
    else if (kind === 'users') {
      const link = makeLink(t, sr, 'users', owner, when, ref);
      link.recipients.push(
        pickRecipient(
          t,
          sr,
          sr.pick(['internal', 'guest', 'external', 'consumer'] as const),
          internal,
          guests,
          owner,
        ),
      );
      perms.push(link);
    } else
      perms.push(makeGrant(t, sr, pickRecipient(t, sr, kind, internal, guests, owner), owner, when, ref));
  }
  return perms;
}

/**
 * Graph permission ids are unique per item. A grant's id is derived from the recipient's login
 * name, so two grants to one person (on one item, or on an item and an ancestor, or a grant to the
 * owner) would share an id: give every repeat a distinct one, unique within the drive.
 */
function uniquePermissionIds(t: Tenant): void {
  const usedIds = new Map<number, Set<string>>();
  for (const [i, ps] of t.perms) {
    const di = t.items.drive[i];
    let used = usedIds.get(di);
    if (!used) {
      used = new Set([t.ownerPermissionId(t.drives[di])]);
      usedIds.set(di, used);
    }
    for (const p of ps) {
      p.id = uniquePermissionId(p.id, used);
      used.add(p.id);
    }
  }
}
export function shareToken(r: Prng): string {
  let s = '';
  const a = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  for (let k = 0; k < 22; k++) s += a[r.int(0, a.length - 1)];
  return `E${s}`;
}

function expiry(r: Prng, scope: LinkScope | null, ref: number): number | null {
  const p = scope === 'anonymous' ? 0.45 : 0.15;
  if (!r.chance(p)) return null;
  return r.chance(0.2) ? ref - r.int(1, 60) * DAY : ref + r.int(1, 180) * DAY;
}

export function makeLink(
  _t: Tenant,
  r: Prng,
  scope: LinkScope,
  sharer: SimUser,
  when: number,
  ref: number,
  linkType?: 'view' | 'edit',
): SimPermission {
  const type = linkType ?? (r.chance(0.7) ? 'view' : 'edit');
  return {
    id: r.guid(),
    kind: 'link',
    roles: [type === 'edit' ? 'write' : 'read'],
    linkType: type,
    linkScope: scope,
    expiresMs: expiry(r, scope, ref),
    recipients: [],
    sharedByIdx: sharer.idx,
    sharedMs: when,
    shareToken: shareToken(r),
    preventsDownload: scope !== 'anonymous' && r.chance(0.05),
  };
}

export function makeGrant(
  t: Tenant,
  r: Prng,
  to: SimRecipient,
  sharer: SimUser,
  when: number,
  ref: number,
  role?: 'read' | 'write',
): SimPermission {
  const login =
    to.kind === 'group'
      ? `c:0o.c|federateddirectoryclaimprovider|${to.email}`
      : to.userIdx >= 0
        ? t.loginNameOf(t.users[to.userIdx])
        : `i:0#.f|membership|urn:spo:guest#${to.email}`;
  return {
    id: Buffer.from(login).toString('base64'),
    kind: 'grant',
    roles: [role ?? (r.chance(0.6) ? 'read' : 'write')],
    linkType: null,
    linkScope: null,
    expiresMs: expiry(r, null, ref),
    recipients: [to],
    sharedByIdx: sharer.idx,
    sharedMs: when,
    shareToken: shareToken(r),
    preventsDownload: false,
  };
}

export function pickRecipient(
  t: Tenant,
  r: Prng,
  kind: 'internal' | 'guest' | 'external' | 'consumer' | 'group',
  internal: SimUser[],
  guests: SimUser[],
  owner: SimUser,
): SimRecipient {
  if (kind === 'guest' && guests.length > 0) {
    const g = r.pick(guests);
    return {
      kind: 'guest',
      userIdx: g.idx,
      groupIdx: -1,
      email: g.mail ?? g.userPrincipalName,
      displayName: g.displayName,
    };
  }
  if (kind === 'group' && t.groups.length > 0) {
    const g = r.pick(t.groups);
    return {
      kind: 'group',
      userIdx: -1,
      groupIdx: g.idx,
      email: g.mail ?? `${g.mailNickname}@${t.domain}`,
      displayName: g.displayName,
    };
  }
  if (kind === 'external' || kind === 'consumer' || (kind === 'guest' && guests.length === 0)) {
    const dom = kind === 'consumer' ? r.pick(CONSUMER_DOMAINS) : r.pick(EXTERNAL_DOMAINS);
    const email = `${r.pick(FIRST_NAMES)}.${r.pick(LAST_NAMES)}@${dom}`.toLowerCase();
    return {
      kind: kind === 'consumer' ? 'consumer' : 'external',
      userIdx: -1,
      groupIdx: -1,
      email,
      displayName: email,
    };
  }
  let u = r.pick(internal.length > 0 ? internal : [owner]);
  if (u === owner && internal.length > 1) u = internal[(internal.indexOf(owner) + 1) % internal.length];
  return {
    kind: 'internal',
    userIdx: u.idx,
    groupIdx: -1,
    email: u.mail ?? u.userPrincipalName,
    displayName: u.displayName,
  };
}
