/**
 * Cases for the built-in security rules that random sharing alone makes rare or never makes:
 * protected and soon-expiring Anyone links, grants to SharePoint's Everyone claims, key files
 * inside folders shared with Anyone or outside, disabled and inactive drive owners who share,
 * drive owners without MFA, guests invited long ago or just now. `violationRatio` sets the
 * share of candidates changed; with any ratio above 0 each case appears at least once when the
 * tenant has a candidate for it. Runs after the sharing, on a PRNG stream of its own, so the
 * rest of the tenant stays what it was.
 */
import { Prng } from '../prng.ts';
import type { SimDrive, SimPermission, SimUser, Tenant } from '../tenant.ts';
import { uniquePermissionId } from '../tenant.ts';
import { DAY, iso } from '../time.ts';
import type { GenerateOptions } from './options.ts';
import { shareToken } from './sharing.ts';
import type { Population } from './users.ts';

/** Key and secret file names the sensitive-file rule looks for by default (name or extension). */
export const KEY_FILE_NAMES = [
  'id_rsa',
  '.env',
  'server.pem',
  'vault.kdbx',
  'deploy.ppk',
  'id_ed25519',
  'client.p12',
  'signing.key',
  'cert.pfx',
];

export function generateRuleCases(t: Tenant, o: GenerateOptions, people: Population): void {
  if (o.violationRatio <= 0) return;
  const r = new Prng(o.seed, 11);
  anyoneLinkCases(t, r, o);
  everyoneGrants(t, r, o);
  keyFilesInSharedFolders(t, r, o);
  ownerCases(t, r, o);
  pendingGuests(r, o, people.guests);
}

/** How many of `n` candidates to change: the ratio's share, at least `min` (when there are that many). */
function howMany(n: number, ratio: number, min: number): number {
  return Math.min(n, Math.max(min, Math.round(n * ratio)));
}

/** `k` distinct elements of `list`, in a shuffled order (the list is not changed). */
function sample<T>(r: Prng, list: readonly T[], k: number): T[] {
  const copy = [...list];
  for (let j = 0; j < k && j < copy.length; j++) {
    const m = r.int(j, copy.length - 1);
    [copy[j], copy[m]] = [copy[m], copy[j]];
  }
  return copy.slice(0, k);
}

/** Anyone links that block downloads, expire within a month, or both. */
function anyoneLinkCases(t: Tenant, r: Prng, o: GenerateOptions): void {
  const links: SimPermission[] = [];
  for (const ps of t.perms.values()) for (const p of ps) if (p.linkScope === 'anonymous') links.push(p);
  const chosen = sample(r, links, howMany(links.length, o.violationRatio, 3));
  chosen.forEach((p, k) => {
    const variant = k % 3;
    if (variant !== 1) {
      // Only a view link can block downloads.
      p.linkType = 'view';
      p.roles = ['read'];
      p.preventsDownload = true;
    }
    if (variant !== 0) p.expiresMs = o.referenceMs + r.int(1, 29) * DAY;
  });
}

/** Permission ids in use per drive (owner entries and explicit permissions), to keep new ones unique. */
function usedIdsByDrive(t: Tenant): Map<number, Set<string>> {
  const used = new Map<number, Set<string>>();
  for (const d of t.drives) used.set(d.idx, new Set([t.ownerPermissionId(d)]));
  for (const [i, ps] of t.perms) for (const p of ps) used.get(t.items.drive[i])?.add(p.id);
  return used;
}

/** Grants to "Everyone" and "Everyone except external users", in both identity shapes Graph uses. */
function everyoneGrants(t: Tenant, r: Prng, o: GenerateOptions): void {
  const shared = [...t.perms.keys()].filter((i) => t.hasExplicit(i));
  const chosen = sample(r, shared, howMany(shared.length, o.violationRatio * 0.5, 4));
  const used = usedIdsByDrive(t);
  chosen.forEach((i, k) => {
    const d = t.drives[t.items.drive[i]];
    const who = t.everyoneRecipient(
      k % 2 === 0 ? 'everyone' : 'everyone_internal',
      k % 4 < 2 ? 'siteUser' : 'siteGroup',
    );
    const ids = used.get(d.idx) ?? new Set<string>();
    const id = uniquePermissionId(Buffer.from(who.claim?.loginName ?? '').toString('base64'), ids);
    ids.add(id);
    const created = t.items.created[i];
    (t.perms.get(i) ?? []).push({
      id,
      kind: 'grant',
      roles: [r.chance(0.7) ? 'read' : 'write'],
      linkType: null,
      linkScope: null,
      expiresMs: null,
      recipients: [who],
      sharedByIdx: d.ownerIdx,
      sharedMs: created + r.next() * (o.referenceMs - created),
      shareToken: shareToken(r),
      preventsDownload: false,
    });
  });
}

/** Folders whose own permissions include an Anyone link, or (without one) someone outside the tenant. */
function sharedFolders(t: Tenant): { anyone: number[]; outside: number[] } {
  const anyone: number[] = [];
  const outside: number[] = [];
  for (const [i, ps] of t.perms) {
    if (!t.isFolder(i) || t.items.isDeleted(i)) continue;
    if (ps.some((p) => p.linkScope === 'anonymous')) anyone.push(i);
    else if (ps.some((p) => p.recipients.some((x) => ['guest', 'external', 'consumer'].includes(x.kind))))
      outside.push(i);
  }
  return { anyone, outside };
}

/**
 * Key files in folders shared with Anyone or outside, half of them directly inside, half in a
 * subfolder (no sharing root of its own: exposed through the folder), half untouched for years.
 */
function keyFilesInSharedFolders(t: Tenant, r: Prng, o: GenerateOptions): void {
  const { anyone, outside } = sharedFolders(t);
  const chosen = [
    ...sample(r, anyone, howMany(anyone.length, o.violationRatio, 2)),
    ...sample(r, outside, howMany(outside.length, o.violationRatio, 1)),
  ];
  let n = 0;
  for (const folder of chosen) {
    const d = t.drives[t.items.drive[folder]];
    const children = childrenOf(t, d, folder);
    const sub = children.filter((c) => t.isFolder(c) && !t.hasExplicit(c));
    const parent = n % 2 === 1 && sub.length > 0 ? r.pick(sub) : folder;
    const name = freeName(t, parent === folder ? children : childrenOf(t, d, parent), n);
    addFile(t, d, parent, name, n % 4 < 2 ? r.int(200, 700) : r.int(1, 90), r, o.referenceMs);
    n++;
  }
}

function childrenOf(t: Tenant, d: SimDrive, folder: number): number[] {
  return d.items.filter((j) => t.items.parent[j] === folder && !t.items.isDeleted(j));
}

/** The n-th key file name, or the next one free among the folder's children. */
function freeName(t: Tenant, siblings: number[], n: number): string {
  const taken = new Set(siblings.map((j) => t.items.name[j].toLowerCase()));
  for (let k = 0; k < KEY_FILE_NAMES.length; k++) {
    const name = KEY_FILE_NAMES[(n + k) % KEY_FILE_NAMES.length];
    if (!taken.has(name)) return name;
  }
  for (let c = 2; ; c++) if (!taken.has(`server (${c}).pem`)) return `server (${c}).pem`;
}

/** A file last modified `ageDays` ago (never before its folder was created), listed in the drive's feed. */
function addFile(
  t: Tenant,
  d: SimDrive,
  parent: number,
  name: string,
  ageDays: number,
  r: Prng,
  ref: number,
): void {
  const it = t.items;
  const when = Math.max(it.created[parent] + 60_000, ref - ageDays * DAY - r.int(0, DAY - 1));
  const size = r.int(200, 6_000);
  const i = it.add(d.idx, parent, name, 0, size, when, when, d.ownerIdx);
  const s = ++d.seq;
  it.seq[i] = s;
  d.logItems.push(i);
  d.logSeqs.push(s);
  d.items.push(i);
  if (t.quotaState(d) === 'normal') d.quotaUsed += size;
  if (when > d.lastModifiedMs) d.lastModifiedMs = when;
}

const SIGN_IN_FIELDS = [
  'lastSignInDateTime',
  'lastNonInteractiveSignInDateTime',
  'lastSuccessfulSignInDateTime',
] as const;

/** Drive owners who are disabled, who stopped signing in while their drive is shared, who have no MFA. */
function ownerCases(t: Tenant, r: Prng, o: GenerateOptions): void {
  const owners = t.drives.map((d) => t.users[d.ownerIdx]).filter((u) => u.idx !== 0);
  const wanted = howMany(owners.length, o.violationRatio * 0.2, 1);

  const disabled = owners.filter((u) => !u.accountEnabled).length;
  const enabled = owners.filter((u) => u.accountEnabled);
  for (const u of sample(r, enabled, Math.max(0, wanted - disabled))) u.accountEnabled = false;

  const sharing = new Set<number>();
  for (const i of t.perms.keys()) sharing.add(t.items.drive[i]);
  // Days since the last sign-in; owners who never signed in are left as they are (-1).
  const idleDays = (u: SimUser) => {
    const last = u.signIn?.lastSignInDateTime;
    return last ? (o.referenceMs - Date.parse(last)) / DAY : -1;
  };
  const sharers = owners.filter((u) => sharing.has(u.driveIdx));
  const inactive = sharers.filter((u) => idleDays(u) > 120).length;
  const active = sharers.filter((u) => idleDays(u) >= 0 && idleDays(u) < 60);
  for (const u of sample(r, active, Math.max(0, wanted - inactive))) {
    const at = iso(o.referenceMs - r.int(120, 400) * DAY - r.int(0, DAY - 1));
    u.signIn = Object.fromEntries(SIGN_IN_FIELDS.map((f) => [f, at])) as SimUser['signIn'];
  }

  const noMfa = owners.filter((u) => u.accountEnabled && !u.mfa.isMfaRegistered).length;
  const withMfa = owners.filter((u) => u.accountEnabled && u.mfa.isMfaRegistered);
  for (const u of sample(r, withMfa, Math.max(0, wanted - noMfa))) {
    u.mfa = {
      ...u.mfa,
      isMfaRegistered: false,
      isMfaCapable: false,
      isPasswordlessCapable: false,
      methodsRegistered: [],
    };
  }
}

/** One guest invited long ago and one invited days ago, both still PendingAcceptance. */
function pendingGuests(r: Prng, o: GenerateOptions, guests: SimUser[]): void {
  if (guests.length < 2) return;
  const [old, recent] = sample(r, guests, 2);
  const invite = (u: SimUser, atMs: number) => {
    const at = iso(atMs);
    u.externalUserState = 'PendingAcceptance';
    u.createdDateTime = at;
    u.externalUserStateChangeDateTime = at;
    u.lastPasswordChangeDateTime = at;
    u.signIn = {
      lastSignInDateTime: null,
      lastNonInteractiveSignInDateTime: null,
      lastSuccessfulSignInDateTime: null,
    };
    u.mfa = { ...u.mfa, isMfaRegistered: false, isMfaCapable: false, methodsRegistered: [] };
  };
  invite(old, Math.min(Date.parse(old.createdDateTime), o.referenceMs - r.int(60, 400) * DAY));
  invite(recent, o.referenceMs - r.int(1, 10) * DAY - r.int(0, DAY - 1));
}
