/**
 * The ground truth of the built-in security rules (rules/builtin/<id>/): what each rule must
 * find on a tenant, computed from the simulator's model alone, never from an inventory or by
 * running SQL. Every evaluated resource gets `ok` or `alarm` (the model never lacks the data a
 * rule's SQL could call an `error`). Exposure and access roots come from the model's sharing
 * (sim/truth.ts); each rule's condition is written here again from its description, so a
 * rule's SQL and this file check each other.
 *
 * Keys: `<rule_id>|<resource key>`, the resource key being `drive|item|permission` for
 * permissions, `drive|item` for items, the drive id for drives, the user id for users and
 * the tenant id for the tenant's sharing settings.
 */
import type { SimDrive, SimPermission, SimRecipient, SimUser, Tenant } from './model/tenant.ts';
import { DAY } from './model/time.ts';
import { accessRootOf, exposureOf } from './truth.ts';

export type RuleTruthStatus = 'ok' | 'alarm';

/** Parameter values per rule id (the rules' defaults unless a test overrides them). */
export type RuleTruthParams = Record<string, Record<string, unknown>>;

export interface RuleTruthOptions {
  /** The evaluation time (the rules' :now), ISO-8601. */
  now: string;
  params: RuleTruthParams;
}

/** The rules this truth covers. */
export const TRUTH_RULE_IDS = [
  'permission_anonymous_link_absent',
  'permission_anonymous_link_expires',
  'permission_anonymous_link_view_only',
  'permission_anonymous_link_protected',
  'permission_org_link_not_edit',
  'permission_external_domain_allowed',
  'permission_personal_email_absent',
  'permission_guest_access_reviewed',
  'permission_everyone_group_absent',
  'item_external_share_not_stale',
  'item_sensitive_file_not_shared',
  'item_shared_folder_not_public',
  'drive_owner_active',
  'drive_inactive_owner_not_sharing',
  'drive_quota_healthy',
  'user_mfa_registered',
  'user_guest_invitation_accepted',
  'tenant_external_sharing_limited',
  'tenant_sharing_domains_restricted',
  'tenant_guest_resharing_disabled',
  'tenant_guest_account_match_required',
  'tenant_idle_sign_out_enabled',
] as const;

/** Recipient kinds outside the tenant (guests, outside addresses, personal mailboxes). */
const OUTSIDE = new Set<SimRecipient['kind']>(['guest', 'external', 'consumer']);

/** Graph timestamps carry whole seconds: the model's milliseconds as the inventory holds them. */
const wholeSeconds = (ms: number) => Math.floor(ms / 1000) * 1000;

class Params {
  constructor(private readonly all: RuleTruthParams) {}
  private value(rule: string, name: string): unknown {
    const v = this.all[rule]?.[name];
    if (v === undefined) throw new Error(`truth-rules: no value for parameter ${name} of ${rule}`);
    return v;
  }
  num(rule: string, name: string): number {
    const v = this.value(rule, name);
    if (typeof v !== 'number') throw new Error(`truth-rules: ${rule}.${name} must be a number`);
    return v;
  }
  bool(rule: string, name: string): boolean {
    const v = this.value(rule, name);
    if (typeof v !== 'boolean') throw new Error(`truth-rules: ${rule}.${name} must be a boolean`);
    return v;
  }
  list(rule: string, name: string): Set<string> {
    const v = this.value(rule, name);
    if (!Array.isArray(v)) throw new Error(`truth-rules: ${rule}.${name} must be a list`);
    return new Set(v.map(String));
  }
}

/** Every evaluated (rule, resource) with its expected status. */
export function expectedRuleResults(t: Tenant, o: RuleTruthOptions): Map<string, RuleTruthStatus> {
  const now = Date.parse(o.now);
  if (Number.isNaN(now)) throw new Error(`truth-rules: now must be an ISO time, got ${o.now}`);
  const p = new Params(o.params);
  const out = new Map<string, RuleTruthStatus>();
  const put = (rule: string, key: string, alarm: boolean) =>
    out.set(`${rule}|${key}`, alarm ? 'alarm' : 'ok');
  for (const d of t.liveDrives()) {
    permissionRules(t, d, now, p, put);
    itemRules(t, d, now, p, put);
    driveRules(t, d, now, p, put);
  }
  userRules(t, now, p, put);
  tenantRules(t, p, put);
  return out;
}

type Put = (rule: string, key: string, alarm: boolean) => void;

const emailDomain = (email: string) =>
  email.includes('@') ? (email.split('@').pop() ?? '').toLowerCase() : '';

/** The address a recipient is known by (a guest's mail, an outside address); '' for the Everyone claims. */
function recipientEmail(t: Tenant, r: SimRecipient): string {
  if (r.claim) return '';
  return r.userIdx >= 0 ? t.userEmail(t.users[r.userIdx]) : r.email.toLowerCase();
}

/** Keyed by the sharing root, not the link: a re-share must reopen the same finding. */
const ITEM_KEYED_LINK_RULE = 'permission_anonymous_link_absent';

/**
 * Permission rules: every permission of every sharing root (the owner entry, own and inherited
 * ones); the Anyone-link rule once per sharing root.
 */
function permissionRules(t: Tenant, d: SimDrive, now: number, p: Params, put: Put): void {
  const owner = t.users[d.ownerIdx];
  const maxDays = p.num('permission_anonymous_link_expires', 'max_days');
  const allowed = p.list('permission_external_domain_allowed', 'allowed_domains');
  const personal = p.list('permission_personal_email_absent', 'personal_domains');
  const membersToo = p.bool('permission_everyone_group_absent', 'include_everyone_except_external');
  for (const i of d.items) {
    if (t.items.isDeleted(i) || !t.hasExplicit(i)) continue;
    const base = `${d.id}|${t.itemId(i)}`;
    // The owner entry: no link, no recipient but the owner, who is no guest and no personal mailbox.
    const ownerKey = `${base}|${t.ownerPermissionId(d)}`;
    for (const rule of TRUTH_RULE_IDS)
      if (rule.startsWith('permission_') && rule !== ITEM_KEYED_LINK_RULE)
        put(
          rule,
          ownerKey,
          rule === 'permission_personal_email_absent' && personal.has(emailDomain(t.userEmail(owner))),
        );
    let anyoneLinks = 0;
    for (const { perm } of t.effectivePermissions(i)) {
      const key = `${base}|${perm.id}`;
      const anyone = perm.linkScope === 'anonymous';
      const edit = perm.linkType === 'edit' || perm.roles.includes('write');
      if (anyone) anyoneLinks++;
      put('permission_anonymous_link_expires', key, anyone && neverOrLater(perm, now, maxDays));
      put('permission_anonymous_link_view_only', key, anyone && edit);
      put('permission_anonymous_link_protected', key, anyone && !perm.preventsDownload);
      put('permission_org_link_not_edit', key, perm.linkScope === 'organization' && edit);
      const outside = perm.recipients.filter((r) => OUTSIDE.has(r.kind));
      put(
        'permission_external_domain_allowed',
        key,
        outside.some((r) => !allowed.has(emailDomain(recipientEmail(t, r)))),
      );
      put(
        'permission_personal_email_absent',
        key,
        perm.recipients.some((r) => personal.has(emailDomain(recipientEmail(t, r)))),
      );
      put('permission_guest_access_reviewed', key, outside.length > 0);
      put(
        'permission_everyone_group_absent',
        key,
        perm.recipients.some((r) => r.kind === 'everyone' || (membersToo && r.kind === 'everyone_internal')),
      );
    }
    put(ITEM_KEYED_LINK_RULE, base, anyoneLinks > 0);
  }
}

/** An Anyone link that never expires, or expires more than `maxDays` days after `now`. */
function neverOrLater(perm: SimPermission, now: number, maxDays: number): boolean {
  if (perm.expiresMs === null) return true;
  return (wholeSeconds(perm.expiresMs) - now) / DAY > maxDays;
}

/** Item rules, on each item's effective exposure (its access root's sharing, inherited below folders). */
function itemRules(t: Tenant, d: SimDrive, now: number, p: Params, put: Put): void {
  const staleDays = p.num('item_external_share_not_stale', 'stale_days');
  const names = p.list('item_sensitive_file_not_shared', 'sensitive_names');
  const extensions = p.list('item_sensitive_file_not_shared', 'sensitive_extensions');
  const it = t.items;
  for (const i of d.items) {
    if (it.isDeleted(i)) continue;
    const key = `${d.id}|${t.itemId(i)}`;
    const exposure = exposureOf(t, accessRootOf(t, i));
    const outside = exposure === 'public' || exposure === 'external';
    if (it.isFolder(i)) {
      if (t.hasExplicit(i)) put('item_shared_folder_not_public', key, outside);
      continue;
    }
    if (outside) {
      const age = (now - wholeSeconds(it.modified[i])) / DAY;
      put('item_external_share_not_stale', key, age > staleDays);
    }
    const name = it.name[i];
    const dot = name.lastIndexOf('.');
    const extension = dot > 0 && dot < name.length - 1 ? name.slice(dot + 1).toLowerCase() : '';
    if (names.has(name.toLowerCase()) || extensions.has(extension))
      put('item_sensitive_file_not_shared', key, outside);
  }
}

/** Days from an ISO time to `now`. */
const daysSince = (iso: string, now: number) => (now - Date.parse(iso)) / DAY;

function driveRules(t: Tenant, d: SimDrive, now: number, p: Params, put: Put): void {
  const owner = t.users[d.ownerIdx];
  put('drive_owner_active', d.id, owner.deleted || !owner.accountEnabled);
  put('drive_quota_healthy', d.id, t.quotaState(d) !== 'normal');
  const inactiveDays = p.num('drive_inactive_owner_not_sharing', 'inactive_days');
  const lastSeen = owner.signIn?.lastSignInDateTime ?? owner.createdDateTime;
  const inactive = daysSince(lastSeen, now) > inactiveDays;
  // Every explicit permission the model makes reaches someone: a sharing root is a live share.
  const shares = d.items.some(
    (i) => !t.items.isDeleted(i) && t.hasExplicit(i) && exposureOf(t, i) !== 'private',
  );
  put('drive_inactive_owner_not_sharing', d.id, inactive && shares);
}

function userRules(t: Tenant, now: number, p: Params, put: Put): void {
  const pendingDays = p.num('user_guest_invitation_accepted', 'pending_days');
  for (const u of t.users) {
    if (u.deleted) continue;
    if (u.userType === 'Guest') {
      put('user_guest_invitation_accepted', u.id, pendingTooLong(u, now, pendingDays));
      continue;
    }
    const drive = u.driveIdx >= 0 ? t.drives[u.driveIdx] : undefined;
    const hasDrive = drive !== undefined && t.driveById.get(drive.id) === drive;
    if (u.accountEnabled && hasDrive) put('user_mfa_registered', u.id, !u.mfa.isMfaRegistered);
  }
}

function pendingTooLong(u: SimUser, now: number, pendingDays: number): boolean {
  if (u.externalUserState !== 'PendingAcceptance') return false;
  return daysSince(u.externalUserStateChangeDateTime ?? u.createdDateTime, now) > pendingDays;
}

/** The SharePoint/OneDrive sharing settings (one resource per tenant, keyed by the tenant id). */
function tenantRules(t: Tenant, p: Params, put: Put): void {
  const s = t.settings;
  const off = s.sharingCapability === 'disabled';
  put(
    'tenant_external_sharing_limited',
    t.tenantId,
    s.sharingCapability === 'externalUserSharingOnly' ||
      s.sharingCapability === 'externalUserAndGuestSharing',
  );
  put(
    'tenant_sharing_domains_restricted',
    t.tenantId,
    !off && s.sharingDomainRestrictionMode !== 'allowList',
  );
  put('tenant_guest_resharing_disabled', t.tenantId, !off && s.isResharingByExternalUsersEnabled);
  put(
    'tenant_guest_account_match_required',
    t.tenantId,
    !off && !s.isRequireAcceptingUserToMatchInvitedUserEnabled,
  );
  const maxSeconds = p.num('tenant_idle_sign_out_enabled', 'max_sign_out_seconds');
  const idle = s.idleSessionSignOut;
  put('tenant_idle_sign_out_enabled', t.tenantId, !idle.isEnabled || idle.signOutAfterInSeconds > maxSeconds);
}
