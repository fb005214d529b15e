import type { SimAdminClient } from '../../sim/admin-client.ts';
import type { TruthRecord } from '../../sim/contracts.ts';
import { GRANT_COLUMNS } from '../../src/resources/grant.ts';
import { resources } from '../../src/resources/index.ts';
import type { ColumnDef } from '../../src/resources/types.ts';
import { canonical, decodeValue } from '../../src/store/codec.ts';
import type { Store } from '../../src/store/store.ts';

/**
 * Test support: the correctness oracle. Compares every typed column of every resource table
 * (the derived access root and exposure of items included), the grants, and the history, with
 * the simulator's ground truth (sim/truth.ts, computed from its model).
 *
 * Differences are JSON arrays, kind first:
 * - a row only in the truth: missing `["permission", driveId, itemId, id]`; only in the store: extra;
 * - a column that differs: missing `[kind, ...key, column, expected]`, extra `[kind, ...key, column, actual]`;
 * - history: `["history", kind, ...key, problem…]` (see replayHistory).
 */

type Truth<K extends TruthRecord['kind']> = Extract<TruthRecord, { kind: K }>;
type Expect<K extends TruthRecord['kind']> = (r: Truth<K>) => unknown;

interface TableSpec<K extends TruthRecord['kind']> {
  table: string;
  /** The truth record kind, also the first element of every difference. */
  kind: K;
  /** Key columns (besides integration_id), as in the resource definition. */
  key: readonly string[];
  truthKey(r: Truth<K>): string[];
  /** Expected value of each typed column. */
  expect: Record<string, Expect<K>>;
  /** Typed columns the truth cannot know, with the reason. */
  notCompared?: Record<string, string>;
  /** Columns whose JSON arrays are compared as sets. */
  unordered?: readonly string[];
  /** Scoped by drive: compared one drive at a time as the truth streams. */
  perDrive?: boolean;
  /** Columns the store rewrites for a whole subtree without history (left out of the replay). */
  subtreeColumns?: readonly string[];
  /** The table's typed columns when it is no resource of the registry (derived tables). */
  columns?: Record<string, ColumnDef>;
  /** Derived rows: deleted, never tombstoned, and without history. */
  derived?: boolean;
}

const lower = (v: string | null | undefined) => (v ? v.toLowerCase() : null);
const domainOf = (email: string | null) => (email?.includes('@') ? email.split('@').pop() || null : null);
const extensionOf = (name: string, folder: boolean) => {
  const dot = name.lastIndexOf('.');
  return folder || dot <= 0 || dot === name.length - 1 ? null : name.slice(dot + 1).toLowerCase();
};

/** How the product names the first recipient, from the model's recipient kinds. */
function recipientKind(p: Truth<'permission'>): string {
  if (p.isOwner) return 'owner';
  const first = p.recipientDetails[0];
  if (first?.identity) return first.identity; // an Everyone claim, named as a siteUser or siteGroup
  if (first) return first.kind === 'group' ? 'group' : 'user';
  return p.invitationEmail ? 'invitation' : 'link';
}

/** The first recipient's e-mail, else its login name; the invitation address without recipients. */
function firstAddress(p: Truth<'permission'>): string | null {
  const first = p.recipientDetails[0];
  return first ? (first.email ?? first.loginName.toLowerCase()) : p.invitationEmail;
}

const userSpec: TableSpec<'user'> = {
  table: 'users',
  kind: 'user',
  key: ['id'],
  truthKey: (u) => [u.id],
  expect: {
    user_principal_name: (u) => u.userPrincipalName,
    display_name: (u) => u.displayName,
    mail: (u) => lower(u.mail),
    domain: (u) => u.domain,
    other_mails: (u) => u.otherMails,
    account_enabled: (u) => u.accountEnabled,
    user_type: (u) => u.userType,
    is_guest: (u) => u.isGuest,
    created_at: (u) => u.createdDateTime,
    creation_type: (u) => u.creationType,
    external_user_state: (u) => u.externalUserState,
    external_user_state_changed_at: (u) => u.externalUserStateChangeDateTime,
    last_password_change_at: (u) => u.lastPasswordChangeDateTime,
    job_title: (u) => u.jobTitle,
    department: (u) => u.department,
    company_name: (u) => u.companyName,
    office_location: (u) => u.officeLocation,
    employee_id: (u) => u.employeeId,
    usage_location: (u) => u.usageLocation,
    city: (u) => u.city,
    country: (u) => u.country,
    mobile_phone: (u) => u.mobilePhone,
    business_phones: (u) => u.businessPhones,
    assigned_licenses: (u) => u.assignedLicenses,
    license_count: (u) => u.assignedLicenses.length,
    manager_id: (u) => u.managerId,
    sign_in_last: (u) => u.lastSignInDateTime,
    sign_in_last_non_interactive: (u) => u.lastNonInteractiveSignInDateTime,
    sign_in_last_successful: (u) => u.lastSuccessfulSignInDateTime,
  },
};

const mfaSpec: TableSpec<'mfa'> = {
  table: 'user_mfa',
  kind: 'mfa',
  key: ['id'],
  truthKey: (m) => [m.userId],
  expect: {
    user_principal_name: (m) => m.userPrincipalName,
    display_name: (m) => m.displayName,
    is_admin: (m) => m.isAdmin,
    is_mfa_registered: (m) => m.isMfaRegistered,
    is_mfa_capable: (m) => m.isMfaCapable,
    is_sspr_registered: (m) => m.isSsprRegistered,
    is_passwordless_capable: (m) => m.isPasswordlessCapable,
    methods_registered: (m) => m.methodsRegistered,
    user_type: (m) => m.userType,
    last_updated_at: (m) => m.lastUpdatedDateTime,
  },
};

const groupSpec: TableSpec<'group'> = {
  table: 'groups',
  kind: 'group',
  key: ['id'],
  truthKey: (g) => [g.id],
  expect: {
    display_name: (g) => g.displayName,
    description: (g) => g.description,
    mail: (g) => lower(g.mail),
    mail_enabled: (g) => g.mailEnabled,
    security_enabled: (g) => g.securityEnabled,
    group_types: (g) => g.groupTypes,
    is_unified: (g) => g.groupTypes.includes('Unified'),
    visibility: (g) => g.visibility,
    created_at: (g) => g.createdDateTime,
    on_premises_sync_enabled: (g) => g.onPremisesSyncEnabled,
  },
};

const memberSpec: TableSpec<'member'> = {
  table: 'group_members',
  kind: 'member',
  key: ['group_id', 'id'],
  truthKey: (m) => [m.groupId, m.memberId],
  expect: {
    member_type: (m) => m.memberType,
    display_name: (m) => m.displayName,
    user_principal_name: (m) => m.userPrincipalName,
    mail: (m) => lower(m.mail),
  },
};

const userDriveSpec: TableSpec<'userDrive'> = {
  table: 'user_drives',
  kind: 'userDrive',
  key: ['id'],
  truthKey: (s) => [s.userId],
  expect: {
    drive_id: (s) => s.driveId,
    provisioned: (s) => s.provisioned,
    status_code: (s) => s.statusCode,
  },
};

const driveSpec: TableSpec<'drive'> = {
  table: 'drives',
  kind: 'drive',
  key: ['id'],
  truthKey: (d) => [d.id],
  expect: {
    owner_id: (d) => d.ownerId,
    owner_kind: () => 'user',
    owner_email: (d) => d.owner.email,
    owner_name: (d) => d.owner.displayName,
    name: (d) => d.name,
    drive_type: (d) => d.driveType,
    web_url: (d) => d.webUrl,
    created_at: (d) => d.createdDateTime,
    modified_at: (d) => d.lastModifiedDateTime,
    quota_total: (d) => d.quotaTotal,
    quota_used: (d) => d.quotaUsed,
    quota_remaining: (d) => d.quotaRemaining,
    quota_deleted: (d) => d.quotaDeleted,
    quota_state: (d) => d.quotaState,
    site_id: (d) => d.siteId,
    site_url: (d) => d.siteUrl,
  },
};

const itemSpec: TableSpec<'item'> = {
  table: 'drive_items',
  kind: 'item',
  key: ['drive_id', 'id'],
  truthKey: (i) => [i.driveId, i.id],
  perDrive: true,
  subtreeColumns: ['path', 'web_url'],
  expect: {
    parent_id: (i) => i.parentId,
    name: (i) => i.name,
    path: (i) => i.path,
    extension: (i) => extensionOf(i.name, i.isFolder),
    size: (i) => i.size,
    mime_type: (i) => i.mimeType,
    is_folder: (i) => i.isFolder,
    is_root: (i) => i.isRoot,
    child_count: (i) => i.childCount,
    package_type: () => null,
    created_at: (i) => i.createdDateTime,
    created_by_id: (i) => i.createdBy.id,
    created_by_email: (i) => i.createdBy.email,
    created_by_name: (i) => i.createdBy.displayName,
    modified_at: (i) => i.lastModifiedDateTime,
    modified_by_id: (i) => i.lastModifiedBy.id,
    modified_by_email: (i) => i.lastModifiedBy.email,
    modified_by_name: (i) => i.lastModifiedBy.displayName,
    web_url: (i) => i.webUrl,
    shared_scope: (i) => i.sharedScope,
    shared_at: (i) => i.sharedDateTime,
    deleted_state: () => null,
    access_root_id: (i) => i.accessRootId,
    exposure: (i) => i.exposure,
  },
  notCompared: {
    c_tag: 'volatile; its served form (a GUID and a version) is no fact of the model',
    e_tag: 'volatile; its served form (a GUID and a version) is no fact of the model',
  },
};

const permissionSpec: TableSpec<'permission'> = {
  table: 'permissions',
  kind: 'permission',
  key: ['drive_id', 'item_id', 'id'],
  truthKey: (p) => [p.driveId, p.itemId, p.id],
  perDrive: true,
  unordered: ['roles', 'recipients'],
  expect: {
    roles: (p) => p.roles,
    link_type: (p) => p.linkType,
    link_scope: (p) => p.linkScope,
    link_web_url: (p) => p.linkWebUrl,
    expiration: (p) => p.expirationDateTime,
    prevents_download: (p) => p.preventsDownload,
    has_password: () => false,
    recipient_kind: recipientKind,
    recipient_id: (p) => p.recipientDetails[0]?.id ?? null,
    // A recipient without an e-mail (an Everyone claim) is named by its login name.
    recipient_email: (p) => firstAddress(p),
    recipient_domain: (p) => domainOf(firstAddress(p)),
    recipient_name: (p) => p.recipientDetails[0]?.displayName ?? null,
    recipients: (p) => p.recipients,
    recipient_count: (p) => p.recipientDetails.length,
    is_external: (p) => p.isExternal,
    is_guest: (p) => p.isGuest,
    inherited: () => false,
    invitation_email: (p) => p.invitationEmail,
    share_id: (p) => p.shareId,
  },
};

/** How the store keys a recipient within a permission: its kind and its id, e-mail or login name. */
const recipientKey = (g: Truth<'grant'>) =>
  `${g.recipientKind}:${g.recipientId ?? g.recipientEmail ?? g.loginName ?? ''}`;

const GRANT_KEY = ['drive_id', 'item_id', 'permission_id', 'recipient_key'] as const;

const grantSpec: TableSpec<'grant'> = {
  table: 'grants',
  kind: 'grant',
  key: GRANT_KEY,
  truthKey: (g) => [g.driveId, g.itemId, g.permissionId, recipientKey(g)],
  perDrive: true,
  derived: true,
  unordered: ['roles'],
  columns: Object.fromEntries(
    Object.entries(GRANT_COLUMNS).filter(([n]) => !['integration_id', 'tenant_id', ...GRANT_KEY].includes(n)),
  ),
  expect: {
    recipient_kind: (g) => g.recipientKind,
    recipient_id: (g) => g.recipientId,
    recipient_email: (g) => g.recipientEmail,
    recipient_domain: (g) => domainOf(g.recipientEmail),
    recipient_name: (g) => g.recipientName,
    login_name: (g) => g.loginName,
    audience: (g) => g.audience,
    is_owner: (g) => g.isOwner,
    roles: (g) => g.roles,
    link_type: (g) => g.linkType,
    link_scope: (g) => g.linkScope,
    expiration: (g) => g.expirationDateTime,
    invitation_email: (g) => g.invitationEmail,
  },
};

// biome-ignore lint/suspicious/noExplicitAny: specs of different truth kinds side by side
type AnySpec = TableSpec<any>;
const SPECS: AnySpec[] = [
  userSpec,
  mfaSpec,
  groupSpec,
  memberSpec,
  userDriveSpec,
  driveSpec,
  itemSpec,
  permissionSpec,
  grantSpec,
];

/** Column definitions of a table, checked to be covered: a new column without truth fails here. */
function columnsOf(spec: AnySpec): Array<[string, ColumnDef]> {
  const columns = spec.columns ?? resources.find((r) => r.table === spec.table)?.columns;
  if (!columns) throw new Error(`oracle: no resource definition for table ${spec.table}`);
  const cols = Object.entries(columns);
  const uncovered = cols.filter(([n]) => !(n in spec.expect) && !(n in (spec.notCompared ?? {})));
  if (uncovered.length > 0)
    throw new Error(
      `oracle: the truth does not cover ${spec.table}.${uncovered.map(([n]) => n).join(', ')}; add it to sim/truth.ts and test/support/truth-oracle.ts`,
    );
  return cols.filter(([n]) => n in spec.expect);
}

/** One comparable form per value, the same for truth and store: ISO ms timestamps, canonical JSON. */
function normalize(def: ColumnDef, value: unknown, unordered: boolean): string {
  const v = decodeValue(def.kind, value);
  if (v === null || v === undefined) return 'null';
  switch (def.kind) {
    case 'timestamp':
      return JSON.stringify(new Date(String(v)).toISOString());
    case 'boolean':
      return String(Boolean(v));
    case 'integer':
    case 'bigint':
      return String(Number(v));
    case 'json':
      return unordered && Array.isArray(v) ? canonical([...v].map(canonical).sort()) : canonical(v);
    default:
      return JSON.stringify(String(v));
  }
}

export interface TruthDiff {
  counts: Record<string, number>;
  missing: string[];
  extra: string[];
}

interface Expected {
  key: string[];
  values: string[];
}

class TableComparison {
  readonly cols: Array<[string, ColumnDef]>;
  constructor(
    readonly spec: AnySpec,
    private readonly diff: TruthDiff,
  ) {
    this.cols = columnsOf(spec);
  }

  expected(r: TruthRecord): Expected {
    const unordered = this.spec.unordered ?? [];
    return {
      key: this.spec.truthKey(r),
      values: this.cols.map(([n, def]) => normalize(def, this.spec.expect[n](r), unordered.includes(n))),
    };
  }

  actual(row: Record<string, unknown>): Expected {
    const unordered = this.spec.unordered ?? [];
    return {
      key: this.spec.key.map((k) => String(row[k])),
      values: this.cols.map(([n, def]) => normalize(def, row[n], unordered.includes(n))),
    };
  }

  /** Compares expected rows with the live rows the query returns. */
  async compare(
    expected: Expected[],
    rows: Array<Record<string, unknown>>,
  ): Promise<Map<string, Record<string, unknown>>> {
    const byKey = new Map(expected.map((e) => [JSON.stringify(e.key), e]));
    const live = new Map<string, Record<string, unknown>>();
    const tag = (parts: unknown[]) => JSON.stringify([this.spec.kind, ...parts]);
    for (const row of rows) {
      const a = this.actual(row);
      const k = JSON.stringify(a.key);
      live.set(k, row);
      const e = byKey.get(k);
      if (!e) {
        this.diff.extra.push(tag(a.key));
        continue;
      }
      byKey.delete(k);
      this.cols.forEach(([n], c) => {
        if (a.values[c] === e.values[c]) return;
        this.diff.missing.push(tag([...a.key, n, JSON.parse(e.values[c])]));
        this.diff.extra.push(tag([...a.key, n, JSON.parse(a.values[c])]));
      });
    }
    for (const e of byKey.values()) this.diff.missing.push(tag(e.key));
    return live;
  }

  async liveRows(store: Store, integrationId: string, driveId?: string) {
    let q = store.db
      .selectFrom(this.spec.table as 'users')
      .select([...this.spec.key, ...this.cols.map(([n]) => n)] as 'id'[])
      .where('integration_id', '=', integrationId);
    if (!this.spec.derived) q = q.where('deleted_at', 'is', null);
    if (driveId !== undefined) q = q.where('drive_id' as 'id', '=', driveId);
    return (await q.execute()) as Array<Record<string, unknown>>;
  }
}

export interface OracleOptions {
  /**
   * The history check (default `replay`): replaying `changes` in order must give exactly the
   * live inventory (every non-volatile typed column but those rewritten for whole subtrees
   * without history: paths, web URLs); `fullSync` also wants exactly one `added` record per live
   * resource and nothing else (the state right after a first full sync); `false` skips it.
   */
  history?: 'replay' | 'fullSync' | false;
}

/** Differences between the inventory and the simulator's truth (empty missing/extra = exact). */
export async function compareWithTruth(
  store: Store,
  integrationId: string,
  admin: SimAdminClient,
  options: OracleOptions = {},
): Promise<TruthDiff> {
  const diff: TruthDiff = { counts: {}, missing: [], extra: [] };
  const tables = new Map(SPECS.map((s) => [s.kind, new TableComparison(s, diff)]));
  const history = options.history ?? 'replay';
  const replay = history === false ? null : new HistoryReplay(store, integrationId, history, diff);
  const global = new Map<string, Expected[]>();
  const drive = new Map<string, Expected[]>();
  const drivesSeen = new Set<string>();
  let currentDrive: string | null = null;

  const flushDrive = async () => {
    if (currentDrive === null) return;
    for (const spec of SPECS.filter((s) => s.perDrive)) {
      const cmp = tables.get(spec.kind) as TableComparison;
      const live = await cmp.compare(
        drive.get(spec.kind) ?? [],
        await cmp.liveRows(store, integrationId, currentDrive),
      );
      await replay?.check(cmp, live, currentDrive);
    }
    drive.clear();
  };

  for await (const r of admin.truth()) {
    diff.counts[r.kind] = (diff.counts[r.kind] ?? 0) + 1;
    if (r.kind === 'drive') {
      await flushDrive();
      currentDrive = r.id;
      drivesSeen.add(r.id);
    }
    const cmp = tables.get(r.kind);
    if (!cmp) continue;
    const into = cmp.spec.perDrive ? drive : global;
    const list = into.get(r.kind) ?? [];
    list.push(cmp.expected(r));
    into.set(r.kind, list);
  }
  await flushDrive();

  for (const spec of SPECS.filter((s) => !s.perDrive)) {
    const cmp = tables.get(spec.kind) as TableComparison;
    const live = await cmp.compare(global.get(spec.kind) ?? [], await cmp.liveRows(store, integrationId));
    await replay?.check(cmp, live);
  }
  // Drives the truth does not know: everything stored in them is extra.
  const stored = await store.db
    .selectFrom('drive_items')
    .select('drive_id')
    .distinct()
    .where('integration_id', '=', integrationId)
    .where('deleted_at', 'is', null)
    .execute();
  for (const { drive_id } of stored) {
    if (drivesSeen.has(drive_id)) continue;
    currentDrive = drive_id;
    await flushDrive();
  }
  return diff;
}

/**
 * Replays the history of one table (one drive of it for drive-scoped tables) and compares the
 * result with the live rows: `added` sets every non-null column, `modified` must start from the
 * replayed `before` and sets `after`, `removed` ends the resource.
 */
class HistoryReplay {
  constructor(
    private readonly store: Store,
    private readonly integrationId: string,
    private readonly mode: 'replay' | 'fullSync',
    private readonly diff: TruthDiff,
  ) {}

  async check(
    cmp: TableComparison,
    live: Map<string, Record<string, unknown>>,
    driveId?: string,
  ): Promise<void> {
    const spec = cmp.spec;
    const def = resources.find((r) => r.table === spec.table);
    if (!def || spec.derived) return;
    const cols = cmp.cols.filter(([n, c]) => !c.volatile && !spec.subtreeColumns?.includes(n));
    const tag = (parts: unknown[]) => JSON.stringify(['history', spec.kind, ...parts]);
    let q = this.store.db
      .selectFrom('changes')
      .select(['resource_id', 'drive_id', 'item_id', 'group_id', 'change_type', 'fields', 'before', 'after'])
      .where('integration_id', '=', this.integrationId)
      .where('resource_type', '=', def.type);
    if (driveId !== undefined) q = q.where('drive_id', '=', driveId);
    const state = new Map<string, Record<string, unknown> | null>();
    const added = new Map<string, number>();
    for (const c of await q.orderBy('id').execute()) {
      const rec = c as unknown as Record<string, unknown>;
      const key = JSON.stringify(spec.key.map((k) => String(k === 'id' ? rec.resource_id : rec[k])));
      const keyParts = JSON.parse(key) as string[];
      const before = (decodeValue('json', c.before) ?? {}) as Record<string, unknown>;
      const after = (decodeValue('json', c.after) ?? {}) as Record<string, unknown>;
      const cur = state.get(key) ?? null;
      if (this.mode === 'fullSync' && c.change_type !== 'added')
        this.diff.extra.push(tag([...keyParts, c.change_type]));
      if (c.change_type === 'added') {
        if (cur) this.diff.extra.push(tag([...keyParts, 'added twice']));
        added.set(key, (added.get(key) ?? 0) + 1);
        state.set(key, { ...after });
      } else if (c.change_type === 'modified') {
        if (!cur) {
          this.diff.extra.push(tag([...keyParts, 'modified while absent']));
          continue;
        }
        for (const f of decodeValue('json', c.fields) as string[]) {
          const col = cols.find(([n]) => n === f);
          if (col && normalize(col[1], before[f], false) !== normalize(col[1], cur[f], false))
            this.diff.extra.push(
              tag([...keyParts, f, 'before', before[f] ?? null, 'replayed', cur[f] ?? null]),
            );
          cur[f] = after[f];
        }
      } else {
        if (!cur) this.diff.extra.push(tag([...keyParts, 'removed while absent']));
        state.set(key, null);
      }
    }
    for (const [key, row] of live) {
      const keyParts = JSON.parse(key) as string[];
      const replayed = state.get(key);
      if (!replayed) {
        this.diff.missing.push(tag([...keyParts, 'added']));
        continue;
      }
      if (this.mode === 'fullSync' && added.get(key) !== 1)
        this.diff.extra.push(tag([...keyParts, 'added twice']));
      const unordered = spec.unordered ?? [];
      for (const [n, def] of cols) {
        const u = unordered.includes(n);
        if (normalize(def, replayed[n], u) !== normalize(def, row[n], u))
          this.diff.extra.push(tag([...keyParts, n, replayed[n] ?? null]));
      }
    }
    for (const [key, row] of state)
      if (row && !live.has(key)) this.diff.extra.push(tag([...(JSON.parse(key) as string[]), 'live']));
  }
}
