/** The in-memory tenant: directory (users, groups), drives, items, permissions and change logs. */
import { SimLabels } from './labels.ts';
import { hash01 } from './prng.ts';
import { F_DELETED, F_FOLDER, ItemStore } from './store.ts';
import { presetSettings, type SimSharepointSettings } from './tenant-settings.ts';

export type QuotaState = 'normal' | 'nearing' | 'critical' | 'exceeded';

export interface SimUser {
  idx: number;
  id: string;
  userPrincipalName: string;
  displayName: string;
  givenName: string | null;
  surname: string | null;
  mail: string | null;
  otherMails: string[];
  accountEnabled: boolean;
  userType: 'Member' | 'Guest';
  createdDateTime: string;
  creationType: string | null;
  externalUserState: 'PendingAcceptance' | 'Accepted' | null;
  externalUserStateChangeDateTime: string | null;
  jobTitle: string | null;
  department: string | null;
  companyName: string | null;
  officeLocation: string | null;
  employeeId: string | null;
  usageLocation: string | null;
  city: string | null;
  country: string | null;
  businessPhones: string[];
  mobilePhone: string | null;
  preferredLanguage: string | null;
  assignedLicenses: Array<{ skuId: string; disabledPlans: string[] }>;
  assignedPlans: Array<{
    assignedDateTime: string;
    capabilityStatus: string;
    service: string;
    servicePlanId: string;
  }>;
  lastPasswordChangeDateTime: string;
  managerIdx: number;
  signIn: {
    lastSignInDateTime: string | null;
    lastNonInteractiveSignInDateTime: string | null;
    lastSuccessfulSignInDateTime: string | null;
  } | null;
  mfa: {
    isAdmin: boolean;
    isMfaRegistered: boolean;
    isMfaCapable: boolean;
    isSsprRegistered: boolean;
    isPasswordlessCapable: boolean;
    methodsRegistered: string[];
    lastUpdatedDateTime: string;
  };
  driveIdx: number;
  deleted: boolean;
  /** Directory change sequence (users/delta). */
  dirSeq: number;
}

export interface SimGroup {
  idx: number;
  id: string;
  displayName: string;
  description: string;
  mail: string | null;
  mailNickname: string;
  mailEnabled: boolean;
  securityEnabled: boolean;
  groupTypes: string[];
  visibility: string | null;
  createdDateTime: string;
  /** Direct members: user or group ids. */
  members: string[];
  dirSeq: number;
  /** Membership changes, for groups/delta with a token. */
  memberLog: Array<{ seq: number; id: string; removed: boolean }>;
}

export interface SimDrive {
  idx: number;
  id: string;
  tag: string;
  ownerIdx: number;
  createdMs: number;
  lastModifiedMs: number;
  webUrl: string;
  siteUrl: string;
  siteId: string;
  webId: string;
  listId: string;
  quotaTotal: number;
  quotaUsed: number;
  quotaDeleted: number;
  rootIdx: number;
  /** Last change sequence handed out in this drive. */
  seq: number;
  /** Bumped by invalidateDeltaTokens: older tokens answer 410. */
  epoch: number;
  /** Change log in seq order: item index, or ~index (negative) for a permission-only entry. */
  logItems: number[];
  logSeqs: number[];
  /** Every item index of the drive (live or deleted). */
  items: number[];
}

export type LinkScope = 'anonymous' | 'organization' | 'users';

export interface SimRecipient {
  /**
   * everyone: SharePoint's "Everyone" claim (every account, guests included);
   * everyone_internal: "Everyone except external users" (every member).
   */
  kind: 'internal' | 'guest' | 'external' | 'consumer' | 'group' | 'everyone' | 'everyone_internal';
  userIdx: number; // -1 when not a directory user
  groupIdx: number; // -1 when not a group
  email: string; // '' for the Everyone claims
  displayName: string;
  /** The Everyone claims: their login name, the SharePoint principal id, and which identity Graph names them by. */
  claim?: SimClaim;
}

/** A SharePoint claim granted like a user or group (Graph may name it as a siteUser or a siteGroup). */
export interface SimClaim {
  loginName: string;
  siteId: string;
  identity: 'siteUser' | 'siteGroup';
}

export interface SimPermission {
  id: string;
  kind: 'link' | 'grant';
  roles: Array<'read' | 'write'>;
  linkType: 'view' | 'edit' | null;
  linkScope: LinkScope | null;
  expiresMs: number | null;
  recipients: SimRecipient[];
  sharedByIdx: number;
  sharedMs: number;
  shareToken: string;
  preventsDownload: boolean;
}

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function toBase32(n: number, width: number): string {
  let s = '';
  for (let i = 0; i < width; i++) {
    s = B32[n % 32] + s;
    n = Math.floor(n / 32);
  }
  return s;
}

function fromBase32(s: string): number {
  let n = 0;
  for (const ch of s) {
    const v = B32.indexOf(ch);
    if (v < 0) return -1;
    n = n * 32 + v;
  }
  return n;
}

const MUL = 0x9e3779b1;
const MUL_INV = (() => {
  let inv = MUL;
  for (let k = 0; k < 5; k++) inv = Math.imul(inv, 2 - Math.imul(MUL, inv));
  return inv >>> 0;
})();

/** `base` when unused, else a variant of it (padding dropped, a counter appended) that is not in `used`. */
export function uniquePermissionId(base: string, used: ReadonlySet<string>): string {
  if (!used.has(base)) return base;
  const stem = base.replace(/=+$/, '');
  for (let n = 1; ; n++) {
    const id = `${stem}${n}`;
    if (!used.has(id)) return id;
  }
}

/** One Teams activity feed notification as Graph accepted it. */
export interface SimActivityNotification {
  userId: string;
  activityType: string;
  topic: { source: string; value: string; webUrl: string | null };
  previewText: string | null;
  templateParameters: Array<{ name: string; value: string }>;
  at: string;
}

export class Tenant {
  readonly tenantId: string;
  readonly domain: string;
  readonly verifiedDomains: string[];
  readonly tenantName: string;
  readonly mySiteHost: string;
  readonly seed: number;
  users: SimUser[] = [];
  userById = new Map<string, SimUser>();
  groups: SimGroup[] = [];
  groupById = new Map<string, SimGroup>();
  drives: SimDrive[] = [];
  driveById = new Map<string, SimDrive>();
  driveByTag = new Map<string, number>();
  items: ItemStore;
  /** Explicit permissions per item index (sharing roots). */
  perms = new Map<number, SimPermission[]>();
  /** Directory change sequence (users + groups delta). */
  dirSeq = 0;
  /** Ids of directory objects removed, with the dirSeq of removal (users/delta @removed). */
  removedUsers: Array<{ id: string; seq: number }> = [];
  readonly idKey: number;
  /** SharePoint and OneDrive settings (GET /admin/sharepoint/settings); the generator sets them. */
  settings: SimSharepointSettings = presetSettings('mixed');
  /** The label catalogue and the labels files carry; the generator sets them. */
  labels: SimLabels;
  /** Users the app's Teams app is NOT installed for (activity notifications to them are refused). */
  teamsAppMissing = new Set<string>();
  /** Teams activity notifications received (POST /users/{id}/teamwork/sendActivityNotification). */
  activityNotifications: SimActivityNotification[] = [];

  constructor(init: { tenantId: string; seed: number; itemCapacity: number }) {
    this.tenantId = init.tenantId;
    this.seed = init.seed;
    this.tenantName = 'contoso';
    this.domain = 'contoso.test';
    this.verifiedDomains = ['contoso.test', 'contoso.onmicrosoft.test'];
    this.mySiteHost = 'contoso-my.sharepoint.test';
    this.items = new ItemStore(init.itemCapacity);
    this.idKey = Math.floor(hash01(init.seed, 77) * 2 ** 30);
    this.labels = new SimLabels(init.seed);
  }

  // ---------- ids ----------

  itemId(i: number): string {
    const d = this.drives[this.items.drive[i]];
    return `01${d.tag}${toBase32((Math.imul(i, MUL) ^ this.idKey) >>> 0, 7)}`;
  }

  /** Item index for an id within a drive, or -1. */
  parseItemId(driveIdx: number, id: string): number {
    if (id.length !== 15 || !id.startsWith('01')) return -1;
    const d = this.driveByTag.get(id.slice(2, 8));
    if (d === undefined || d !== driveIdx) return -1;
    const raw = fromBase32(id.slice(8));
    if (raw < 0) return -1;
    if (raw > 0xffffffff) return -1;
    const i = Math.imul((raw ^ this.idKey) >>> 0, MUL_INV) >>> 0;
    if (i >= this.items.length || this.items.drive[i] !== driveIdx) return -1;
    return i;
  }

  // ---------- tree ----------

  pathOf(i: number): string {
    const it = this.items;
    if (it.parent[i] < 0) return '/';
    const parts: string[] = [];
    let cur = i;
    while (cur >= 0 && it.parent[cur] >= 0) {
      parts.push(it.name[cur]);
      cur = it.parent[cur];
    }
    return `/${parts.reverse().join('/')}`;
  }

  isAncestor(ancestor: number, i: number): boolean {
    let cur = this.items.parent[i];
    while (cur >= 0) {
      if (cur === ancestor) return true;
      cur = this.items.parent[cur];
    }
    return false;
  }

  /** Live descendants of a folder (not including itself). */
  descendants(i: number): number[] {
    const d = this.drives[this.items.drive[i]];
    const out: number[] = [];
    for (const j of d.items) if (j !== i && !this.items.isDeleted(j) && this.isAncestor(i, j)) out.push(j);
    return out;
  }

  liveChildren(i: number): number[] {
    const d = this.drives[this.items.drive[i]];
    const out: number[] = [];
    for (const j of d.items) if (this.items.parent[j] === i && !this.items.isDeleted(j)) out.push(j);
    return out;
  }

  // ---------- sharing ----------

  /** Explicit permissions on the item and on its ancestors (nearest first), as [itemIndex, permission]. */
  effectivePermissions(i: number): Array<{ on: number; perm: SimPermission }> {
    const out: Array<{ on: number; perm: SimPermission }> = [];
    let cur = i;
    while (cur >= 0) {
      const ps = this.perms.get(cur);
      if (ps) for (const p of ps) out.push({ on: cur, perm: p });
      cur = this.items.parent[cur];
    }
    return out;
  }

  /** Id of the owner entry every item of the drive lists first (base64 of the owner's login name). */
  ownerPermissionId(d: SimDrive): string {
    return Buffer.from(this.loginNameOf(this.users[d.ownerIdx])).toString('base64');
  }

  /**
   * Permission ids in use in a drive: the owner entry's and every explicit permission's. Keeping
   * ids unique per drive keeps them unique in every item's listing (owner + explicit + inherited),
   * also after items move between folders (moves stay inside the drive).
   */
  permissionIdsInDrive(driveIdx: number): Set<string> {
    const used = new Set<string>([this.ownerPermissionId(this.drives[driveIdx])]);
    for (const [i, ps] of this.perms)
      if (this.items.drive[i] === driveIdx) for (const p of ps) used.add(p.id);
    return used;
  }

  hasExplicit(i: number): boolean {
    const ps = this.perms.get(i);
    return ps !== undefined && ps.length > 0;
  }

  /** Widest scope among the item's effective permissions, or null when nothing is shared. */
  sharedScope(i: number): LinkScope | null {
    let best: LinkScope | null = null;
    let cur = i;
    while (cur >= 0) {
      const ps = this.perms.get(cur);
      if (ps)
        for (const p of ps) {
          const s: LinkScope = p.linkScope ?? 'users';
          if (s === 'anonymous') return 'anonymous';
          if (s === 'organization') best = 'organization';
          else if (best === null) best = 'users';
        }
      cur = this.items.parent[cur];
    }
    return best;
  }

  /** The `shared` facet scope as served: with hierarchicalsharing only on sharing roots. */
  servedSharedScope(i: number, hierarchical: boolean): LinkScope | null {
    if (this.items.isDeleted(i)) return null;
    if (hierarchical && !this.hasExplicit(i)) return null;
    return this.sharedScope(i);
  }

  // ---------- drives ----------

  /**
   * The OneDrive is gone (its owner was deleted, or it was removed): /drives/{id} and
   * /users/{id}/drive answer 404 from now on. Its items stay in the arrays (an item's index
   * is its position) but are never served again.
   */
  removeDrive(d: SimDrive): void {
    this.driveById.delete(d.id);
    const owner = this.users[d.ownerIdx];
    if (owner.driveIdx === d.idx) owner.driveIdx = -1;
  }

  /** Drives that still exist (removeDrive takes one out). */
  liveDrives(): SimDrive[] {
    return this.drives.filter((d) => this.driveById.get(d.id) === d);
  }

  quotaState(d: SimDrive): QuotaState {
    const remaining = d.quotaTotal - d.quotaUsed;
    if (remaining <= 0) return 'exceeded';
    if (remaining < d.quotaTotal * 0.01) return 'critical';
    if (remaining < d.quotaTotal * 0.1) return 'nearing';
    return 'normal';
  }

  /** Hands out the next drive sequence number. */
  bumpSeq(d: SimDrive): number {
    return ++d.seq;
  }

  /** Records a content change of an item (it reappears in delta). */
  touch(i: number): number {
    const d = this.drives[this.items.drive[i]];
    const s = this.bumpSeq(d);
    this.items.seq[i] = s;
    d.logItems.push(i);
    d.logSeqs.push(s);
    return s;
  }

  /** Records an inherited permission change (delta shows it only with the three Prefer values). */
  touchPermissionsOnly(i: number): number {
    const d = this.drives[this.items.drive[i]];
    const s = this.bumpSeq(d);
    this.items.pseq[i] = s;
    d.logItems.push(~i);
    d.logSeqs.push(s);
    return s;
  }

  liveItemCount(): number {
    let n = 0;
    for (let i = 0; i < this.items.length; i++) if ((this.items.flags[i] & F_DELETED) === 0) n++;
    return n;
  }

  isFolder(i: number): boolean {
    return (this.items.flags[i] & F_FOLDER) !== 0;
  }

  // ---------- directory ----------

  transitiveMembers(groupIdx: number): Array<{ kind: 'user' | 'group'; id: string }> {
    const out: Array<{ kind: 'user' | 'group'; id: string }> = [];
    const seen = new Set<string>();
    const visit = (g: SimGroup) => {
      for (const m of g.members) {
        if (seen.has(m)) continue;
        seen.add(m);
        const u = this.userById.get(m);
        if (u) {
          if (!u.deleted) out.push({ kind: 'user', id: m });
          continue;
        }
        const sub = this.groupById.get(m);
        if (sub) {
          out.push({ kind: 'group', id: m });
          visit(sub);
        }
      }
    };
    visit(this.groups[groupIdx]);
    return out;
  }

  userEmail(u: SimUser): string {
    return (u.mail ?? u.userPrincipalName).toLowerCase();
  }

  loginNameOf(u: SimUser): string {
    return `i:0#.f|membership|${u.userPrincipalName.toLowerCase()}`;
  }

  /**
   * SharePoint's Everyone claims as a permission recipient: "Everyone" (`c:0(.s|true`, guests
   * included) or "Everyone except external users" (`c:0-.f|rolemanager|spo-grid-all-users/<tenant>`),
   * named by Graph as a siteUser or a siteGroup (the simulator serves both shapes).
   */
  everyoneRecipient(kind: 'everyone' | 'everyone_internal', identity: SimClaim['identity']): SimRecipient {
    const everyone = kind === 'everyone';
    return {
      kind,
      userIdx: -1,
      groupIdx: -1,
      email: '',
      displayName: everyone ? 'Everyone' : 'Everyone except external users',
      claim: {
        loginName: everyone ? 'c:0(.s|true' : `c:0-.f|rolemanager|spo-grid-all-users/${this.tenantId}`,
        siteId: everyone ? '4' : '5',
        identity,
      },
    };
  }
}
