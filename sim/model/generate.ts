/** Deterministic tenant generator: the whole tenant is a pure function of the options below. */
import {
  CITIES,
  CONSUMER_DOMAINS,
  DEPARTMENTS,
  EXTERNAL_DOMAINS,
  FILE_STEMS,
  FILE_TYPES,
  FIRST_NAMES,
  JOB_TITLES,
  LAST_NAMES,
  MFA_METHODS,
  PROJECT_WORDS,
  SENSITIVE_FILES,
  SKUS,
  SUB_FOLDERS,
  TOP_FOLDERS,
} from './names.ts';
import { Prng } from './prng.ts';
import { F_FOLDER, F_ROOT } from './store.ts';
import type { LinkScope, SimDrive, SimGroup, SimPermission, SimRecipient, SimUser } from './tenant.ts';
import { Tenant, toBase32, uniquePermissionId } from './tenant.ts';

export interface GenerateOptions {
  seed: number;
  users: number;
  items: number;
  unprovisionedRatio: number;
  sharedRatio: number;
  anonymousRatio: number;
  /** ms since epoch; every generated timestamp is before it. */
  referenceMs: number;
}

const DAY = 86_400_000;
const iso = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

export function defaultReferenceMs(): number {
  const now = new Date();
  return Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
}

export function generateTenant(o: GenerateOptions): Tenant {
  const rng = new Prng(o.seed, 1);
  const tenantId = new Prng(o.seed, 0).guid();
  const t = new Tenant({ tenantId, seed: o.seed, itemCapacity: Math.ceil(o.items * 1.02) + 1024 });
  const ref = o.referenceMs;
  const nUsers = Math.max(1, Math.floor(o.users));
  const nGuests = nUsers >= 5 ? Math.max(1, Math.round(nUsers * 0.1)) : 0;
  const nMembers = nUsers - nGuests;

  // ---------- users ----------
  const usedUpns = new Set<string>();
  for (let k = 0; k < nUsers; k++) {
    const guest = k >= nMembers;
    const first = rng.pick(FIRST_NAMES);
    const last = rng.pick(LAST_NAMES);
    const id = rng.guid();
    const created = ref - rng.int(30, 2200) * DAY - rng.int(0, DAY - 1);
    let u: SimUser;
    if (!guest) {
      let local = k === 0 ? 'admin' : `${first}.${last}`.toLowerCase();
      for (let n = 2; usedUpns.has(local); n++) local = `${first}.${last}${n}`.toLowerCase();
      usedUpns.add(local);
      const upn = `${local}@${t.domain}`;
      const dept = k === 0 ? 'IT' : rng.pick(DEPARTMENTS);
      const [city, country, cc] = rng.pick(CITIES);
      const lic = rng.next();
      const sku = lic < 0.03 && k > 0 ? null : lic < 0.55 ? SKUS.E3 : lic < 0.85 ? SKUS.E5 : SKUS.BP;
      const licences = sku
        ? [{ skuId: sku.skuId, disabledPlans: rng.chance(0.2) ? [...sku.plans] : [] }]
        : ([] as Array<{ skuId: string; disabledPlans: string[] }>);
      if (sku && rng.chance(0.3)) licences.push({ skuId: SKUS.P1.skuId, disabledPlans: [] });
      const neverSignedIn = rng.chance(0.05);
      const stale = rng.chance(0.1);
      const lastSign = neverSignedIn
        ? null
        : ref - (stale ? rng.int(100, 400) : rng.int(0, 60)) * DAY - rng.int(0, DAY);
      const mfaReg = k === 0 || rng.chance(0.8);
      u = {
        idx: k,
        id,
        userPrincipalName: upn,
        displayName: k === 0 ? 'MOD Administrator' : `${first} ${last}`,
        givenName: k === 0 ? 'MOD' : first,
        surname: k === 0 ? 'Administrator' : last,
        mail: upn,
        otherMails: rng.chance(0.1) ? [`${first}.${last}@${rng.pick(CONSUMER_DOMAINS)}`.toLowerCase()] : [],
        accountEnabled: k === 0 ? true : !rng.chance(0.05),
        userType: 'Member',
        createdDateTime: iso(created),
        creationType: null,
        externalUserState: null,
        externalUserStateChangeDateTime: null,
        jobTitle: rng.pick(JOB_TITLES[dept]),
        department: dept,
        companyName: 'Contoso',
        officeLocation: `${city} ${rng.int(1, 40)}/${rng.int(1000, 4999)}`,
        employeeId: String(100000 + k),
        usageLocation: cc,
        city,
        country,
        businessPhones: rng.chance(0.8) ? [`+1 425 555 ${String(rng.int(0, 9999)).padStart(4, '0')}`] : [],
        mobilePhone: rng.chance(0.5) ? `+1 206 555 ${String(rng.int(0, 9999)).padStart(4, '0')}` : null,
        preferredLanguage: 'en-US',
        assignedLicenses: licences,
        assignedPlans: licences.flatMap((l) => [
          {
            assignedDateTime: iso(created + DAY),
            capabilityStatus: 'Enabled',
            service: 'SharePoint',
            servicePlanId: (Object.values(SKUS).find((s) => s.skuId === l.skuId) ?? SKUS.E3).plans[0],
          },
        ]),
        lastPasswordChangeDateTime: iso(ref - rng.int(1, 500) * DAY),
        managerIdx: -1,
        signIn:
          lastSign === null
            ? {
                lastSignInDateTime: null,
                lastNonInteractiveSignInDateTime: null,
                lastSuccessfulSignInDateTime: null,
              }
            : {
                lastSignInDateTime: iso(lastSign),
                lastNonInteractiveSignInDateTime: iso(lastSign + rng.int(0, 5) * 3600_000),
                lastSuccessfulSignInDateTime: iso(lastSign - (rng.chance(0.1) ? rng.int(1, 10) * DAY : 0)),
              },
        mfa: {
          isAdmin: k === 0 || rng.chance(0.03),
          isMfaRegistered: mfaReg,
          isMfaCapable: mfaReg,
          isSsprRegistered: mfaReg && rng.chance(0.7),
          isPasswordlessCapable: mfaReg && rng.chance(0.15),
          methodsRegistered: mfaReg
            ? [rng.pick(MFA_METHODS), 'email'].filter((m, i, a) => a.indexOf(m) === i)
            : [],
          lastUpdatedDateTime: iso(ref - rng.int(0, 30) * DAY),
        },
        driveIdx: -1,
        deleted: false,
        dirSeq: 0,
      };
    } else {
      const dom = rng.chance(0.5) ? rng.pick(CONSUMER_DOMAINS) : rng.pick(EXTERNAL_DOMAINS);
      const email = `${first}.${last}${k}@${dom}`.toLowerCase();
      const accepted = rng.chance(0.7);
      const lastSign = accepted ? ref - rng.int(0, 200) * DAY : null;
      // Random draws in the same order as always, so a seed keeps giving the same tenant.
      const accountEnabled = !rng.chance(0.05);
      const stateChangedAt = iso(created + (accepted ? rng.int(0, 5) * DAY : 0));
      const mfaRegistered = accepted && rng.chance(0.3);
      const mfaUpdatedAt = iso(ref - rng.int(0, 30) * DAY);
      u = newGuestUser(t, {
        idx: k,
        id,
        email,
        displayName: `${first} ${last} (${dom.split('.')[0]})`,
        accountEnabled,
        createdAt: iso(created),
        accepted,
        stateChangedAt,
        lastSignInAt: lastSign === null ? null : iso(lastSign),
        mfaRegistered,
        mfaUpdatedAt,
      });
    }
    u.dirSeq = ++t.dirSeq;
    t.users.push(u);
    t.userById.set(u.id, u);
  }
  // managers: a tree over members, managers come first
  const nManagers = Math.max(1, Math.ceil(nMembers / 8));
  for (let k = 1; k < nMembers; k++) {
    if (rng.chance(0.92))
      t.users[k].managerIdx = k < nManagers ? rng.int(0, k - 1) : rng.int(0, nManagers - 1);
  }

  // ---------- groups ----------
  const members = t.users.slice(0, nMembers);
  const guests = t.users.slice(nMembers);
  const addGroup = (displayName: string, unified: boolean, memberIds: string[]) => {
    const nick = displayName.replace(/[^A-Za-z0-9]/g, '');
    const g: SimGroup = {
      idx: t.groups.length,
      id: rng.guid(),
      displayName,
      description: `${displayName} group`,
      mail: unified || rng.chance(0.3) ? `${nick}@${t.domain}` : null,
      mailNickname: nick,
      mailEnabled: unified,
      securityEnabled: !unified,
      groupTypes: unified ? ['Unified'] : [],
      visibility: unified ? (rng.chance(0.8) ? 'Private' : 'Public') : null,
      createdDateTime: iso(ref - rng.int(60, 2000) * DAY),
      members: memberIds,
      dirSeq: ++t.dirSeq,
      memberLog: [],
    };
    t.groups.push(g);
    t.groupById.set(g.id, g);
    return g;
  };
  addGroup(
    'All Company',
    true,
    members.map((u) => u.id),
  );
  for (const dept of DEPARTMENTS) {
    const ms = members.filter((u) => u.department === dept).map((u) => u.id);
    if (ms.length > 0) addGroup(dept, rng.chance(0.5), ms);
  }
  const nProjects = Math.max(1, Math.round(nUsers / 12));
  for (let k = 0; k < nProjects; k++) {
    const ms = new Set<string>();
    const size = rng.int(2, Math.min(12, Math.max(2, nMembers)));
    for (let j = 0; j < size; j++) ms.add(rng.pick(members).id);
    if (guests.length > 0 && rng.chance(0.5)) ms.add(rng.pick(guests).id);
    addGroup(
      `Project ${PROJECT_WORDS[k % PROJECT_WORDS.length]}${k >= PROJECT_WORDS.length ? ` ${k}` : ''}`,
      true,
      [...ms],
    );
  }
  // nesting: a later group inside an earlier one, never a cycle
  const engineering = t.groups.find((g) => g.displayName === 'Engineering');
  const leads = addGroup(
    'Security Admins',
    false,
    members.filter((u) => u.mfa.isAdmin || u.department === 'IT').map((u) => u.id),
  );
  const allCompany = t.groups[0];
  allCompany.members.push(leads.id);
  if (engineering) {
    const tl = addGroup(
      'Engineering Leads',
      false,
      members.filter((u) => u.managerIdx < 0 || u.idx < nManagers).map((u) => u.id),
    );
    engineering.members.push(tl.id);
  }

  // ---------- drives ----------
  const owners: SimUser[] = [];
  for (const u of members) {
    if (u.idx !== 0 && rng.chance(o.unprovisionedRatio)) continue;
    owners.push(u);
  }
  if (o.unprovisionedRatio > 0 && nMembers >= 10 && owners.length === nMembers) owners.pop();
  const weights = owners.map(() => rng.logNormal(1, 0.9));
  const wsum = weights.reduce((a, b) => a + b, 0) || 1;
  const budget = Math.max(owners.length, Math.floor(o.items));
  const perDrive = weights.map((w) => Math.max(1, Math.floor((w / wsum) * budget)));
  let assigned = perDrive.reduce((a, b) => a + b, 0);
  for (let k = 0; assigned < budget && perDrive.length > 0; k = (k + 1) % perDrive.length) {
    perDrive[k]++;
    assigned++;
  }
  // quota states: at least one of each when there are ≥4 drives
  const states: Array<'normal' | 'nearing' | 'critical' | 'exceeded'> = owners.map(() => 'normal');
  {
    const order = owners.map((_, k) => k);
    for (let k = order.length - 1; k > 0; k--) {
      const j = rng.int(0, k);
      [order[k], order[j]] = [order[j], order[k]];
    }
    const nEx = owners.length >= 4 ? Math.max(1, Math.round(owners.length * 0.02)) : 0;
    const nCr = owners.length >= 4 ? Math.max(1, Math.round(owners.length * 0.03)) : 0;
    const nNe = owners.length >= 4 ? Math.max(1, Math.round(owners.length * 0.06)) : 0;
    let p = 0;
    for (let k = 0; k < nEx; k++) states[order[p++]] = 'exceeded';
    for (let k = 0; k < nCr; k++) states[order[p++]] = 'critical';
    for (let k = 0; k < nNe; k++) states[order[p++]] = 'nearing';
  }

  let sensitiveCounter = 0;
  for (let k = 0; k < owners.length; k++) {
    const u = owners[k];
    const drng = new Prng(o.seed, 1000 + k);
    const idBytes = Buffer.alloc(48);
    for (let b = 0; b < 48; b += 4) idBytes.writeUInt32LE(drng.u32(), b);
    let tag = toBase32(drng.u32() % 32 ** 6, 6);
    while (t.driveByTag.has(tag)) tag = toBase32(drng.u32() % 32 ** 6, 6);
    const personal = u.userPrincipalName.replace(/[@.]/g, '_');
    const siteUrl = `https://${t.mySiteHost}/personal/${personal}`;
    const createdMs = Date.parse(u.createdDateTime) + drng.int(1, 10) * DAY;
    const d: SimDrive = {
      idx: t.drives.length,
      id: `b!${idBytes.toString('base64url')}`,
      tag,
      ownerIdx: u.idx,
      createdMs,
      lastModifiedMs: createdMs,
      webUrl: `${siteUrl}/Documents`,
      siteUrl,
      siteId: drng.guid(),
      webId: drng.guid(),
      listId: drng.guid(),
      quotaTotal: 1_099_511_627_776,
      quotaUsed: 0,
      quotaDeleted: 0,
      rootIdx: -1,
      seq: 0,
      epoch: 1,
      logItems: [],
      logSeqs: [],
      items: [],
    };
    t.drives.push(d);
    t.driveById.set(d.id, d);
    t.driveByTag.set(tag, d.idx);
    u.driveIdx = d.idx;
    const used = generateDriveItems(t, d, perDrive[k], drng, o, createdMs, () => sensitiveCounter++);
    d.quotaDeleted = Math.round(used * drng.next() * 0.05);
    const state = states[k];
    if (state === 'normal') d.quotaUsed = used + d.quotaDeleted;
    else {
      d.quotaTotal = drng.pick([5, 10, 25]) * 1_073_741_824;
      const frac =
        state === 'nearing'
          ? 0.905 + drng.next() * 0.08
          : state === 'critical'
            ? 0.991 + drng.next() * 0.008
            : 1 + drng.next() * 0.05;
      d.quotaUsed = Math.round(d.quotaTotal * frac);
    }
    let lastMod = createdMs;
    for (const i of d.items) if (t.items.modified[i] > lastMod) lastMod = t.items.modified[i];
    d.lastModifiedMs = lastMod;
  }

  // ---------- sharing ----------
  const sr = new Prng(o.seed, 7);
  const internal = members.filter((u) => u.accountEnabled);
  for (const d of t.drives) {
    for (const i of d.items) {
      if (i === d.rootIdx) continue;
      const r = sr.next();
      if (r >= Math.max(o.sharedRatio, o.anonymousRatio)) continue;
      const perms: SimPermission[] = [];
      const owner = t.users[d.ownerIdx];
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
      t.perms.set(i, perms);
    }
  }
  // Graph permission ids are unique per item. A grant's id is derived from the recipient's login
  // name, so two grants to one person (on one item, or on an item and an ancestor, or a grant to the
  // owner) would share an id: give every repeat a distinct one, unique within the drive.
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
  return t;
}

function generateDriveItems(
  t: Tenant,
  d: SimDrive,
  count: number,
  r: Prng,
  o: GenerateOptions,
  driveCreated: number,
  nextSensitive: () => number,
): number {
  const it = t.items;
  const owner = d.ownerIdx;
  const ref = o.referenceMs;
  const span = Math.max(DAY, ref - driveCreated);
  const order: number[] = [];
  const root = it.add(d.idx, -1, 'root', F_FOLDER | F_ROOT, 0, driveCreated, driveCreated, owner);
  d.rootIdx = root;
  order.push(root);
  const folders: number[] = [];
  const depth = new Map<number, number>();
  const names = new Map<number, Set<string>>();
  depth.set(root, 0);
  const uniqueName = (parent: number, name: string) => {
    let set = names.get(parent);
    if (!set) {
      set = new Set();
      names.set(parent, set);
    }
    let n = name;
    if (set.has(n)) {
      const dot = name.lastIndexOf('.');
      const stem = dot > 0 ? name.slice(0, dot) : name;
      const ext = dot > 0 ? name.slice(dot) : '';
      for (let c = 1; set.has(n); c++) n = `${stem} (${c})${ext}`;
    }
    set.add(n);
    return n;
  };
  let usedBytes = 0;
  const addFolder = (parent: number, name: string) => {
    const c = driveCreated + r.next() * span * 0.9;
    const f = it.add(
      d.idx,
      parent,
      uniqueName(parent, name),
      F_FOLDER,
      0,
      c,
      c + r.next() * (ref - c),
      owner,
    );
    order.push(f);
    folders.push(f);
    depth.set(f, (depth.get(parent) ?? 0) + 1);
    return f;
  };
  const addFile = (parent: number, name: string, size: number) => {
    const c = driveCreated + r.next() * span;
    const m = r.chance(0.6) ? c : c + r.next() * (ref - c);
    const f = it.add(d.idx, parent, uniqueName(parent, name), 0, size, c, m, owner);
    if (r.chance(0.05)) it.modifiedBy[f] = r.int(0, t.users.length - 1);
    it.version[f] = 1 + (r.chance(0.3) ? r.int(1, 12) : 0);
    usedBytes += size;
    order.push(f);
  };
  let remaining = count - 1;
  const tops = TOP_FOLDERS.filter((_, k) => k === 0 || r.chance(0.6));
  for (const name of tops) {
    if (remaining <= 0) break;
    addFolder(root, name);
    remaining--;
  }
  const documents = folders.length > 0 ? folders[0] : root;
  while (remaining > 0) {
    const x = r.next();
    if (x < 0.1 || folders.length === 0) {
      let parent = folders.length > 0 && r.chance(0.85) ? r.pick(folders) : root;
      if ((depth.get(parent) ?? 0) >= 7) parent = documents;
      const name =
        parent === documents && r.chance(0.5)
          ? `Project ${r.pick(PROJECT_WORDS)}${r.chance(0.4) ? ` ${2019 + r.int(0, 7)}` : ''}`
          : r.pick(SUB_FOLDERS);
      addFolder(parent, name);
    } else if (r.chance(0.0015)) {
      const [name, , size] = SENSITIVE_FILES[nextSensitive() % SENSITIVE_FILES.length];
      addFile(r.chance(0.5) ? documents : r.pick(folders), name, size);
    } else {
      const [ext, , median] = r.weighted(
        FILE_TYPES,
        FILE_TYPES.map((f) => f[3]),
      );
      const stem = r.pick(FILE_STEMS);
      const suffix = r.weighted(
        ['', ' v2', ' - Copy', ' final', ` ${2018 + r.int(0, 8)}`, ` Q${r.int(1, 4)}`, ` (${r.int(1, 9)})`],
        [40, 8, 5, 6, 20, 12, 4],
      );
      const name =
        ext === 'png' && r.chance(0.5)
          ? `Screenshot ${2020 + r.int(0, 6)}-0${r.int(1, 9)}-${10 + r.int(0, 18)} ${r.int(100000, 235959)}.png`
          : `${stem}${suffix}.${ext}`;
      addFile(r.pick(folders), name, Math.max(1, Math.round(r.logNormal(median, 1.1))));
    }
    remaining--;
  }
  // a few folders get their sequence after their children: parents after children in enumerations
  const late: number[] = [];
  const early: number[] = [];
  for (const i of order) {
    if (i !== root && it.isFolder(i) && r.chance(0.05)) late.push(i);
    else early.push(i);
  }
  for (const i of [...early, ...late]) {
    const s = ++d.seq;
    it.seq[i] = s;
    d.logItems.push(i);
    d.logSeqs.push(s);
    d.items.push(i);
  }
  return usedBytes;
}

function shareToken(r: Prng): string {
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

/** A B2B guest as an invitation creates it (#EXT# UPN in the tenant's initial domain). */
export function newGuestUser(
  t: Tenant,
  g: {
    idx: number;
    id: string;
    email: string;
    displayName: string;
    accountEnabled: boolean;
    createdAt: string;
    accepted: boolean;
    stateChangedAt: string;
    lastSignInAt: string | null;
    mfaRegistered: boolean;
    mfaUpdatedAt: string;
  },
): SimUser {
  return {
    idx: g.idx,
    id: g.id,
    userPrincipalName: `${g.email.replace('@', '_')}#EXT#@${t.verifiedDomains[1]}`,
    displayName: g.displayName,
    givenName: null,
    surname: null,
    mail: g.email,
    otherMails: [g.email],
    accountEnabled: g.accountEnabled,
    userType: 'Guest',
    createdDateTime: g.createdAt,
    creationType: 'Invitation',
    externalUserState: g.accepted ? 'Accepted' : 'PendingAcceptance',
    externalUserStateChangeDateTime: g.stateChangedAt,
    jobTitle: null,
    department: null,
    companyName: null,
    officeLocation: null,
    employeeId: null,
    usageLocation: null,
    city: null,
    country: null,
    businessPhones: [],
    mobilePhone: null,
    preferredLanguage: null,
    assignedLicenses: [],
    assignedPlans: [],
    lastPasswordChangeDateTime: g.createdAt,
    managerIdx: -1,
    signIn: {
      lastSignInDateTime: g.lastSignInAt,
      lastNonInteractiveSignInDateTime: null,
      lastSuccessfulSignInDateTime: g.lastSignInAt,
    },
    mfa: {
      isAdmin: false,
      isMfaRegistered: g.mfaRegistered,
      isMfaCapable: g.mfaRegistered,
      isSsprRegistered: false,
      isPasswordlessCapable: false,
      methodsRegistered: g.mfaRegistered ? ['email'] : [],
      lastUpdatedDateTime: g.mfaUpdatedAt,
    },
    driveIdx: -1,
    deleted: false,
    dirSeq: 0,
  };
}
