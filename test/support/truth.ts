/** The check that an inventory equals the simulator's ground truth (collector tests, e2e, bench). */
import type { SimAdminClient } from '../../sim/admin-client.ts';
import type { TruthRecord } from '../../sim/contracts.ts';
import { decodeValue } from '../../src/store/codec.ts';
import type { Store } from '../../src/store/store.ts';

const t = (v: unknown) => (v === null || v === undefined ? null : new Date(String(v)).toISOString());
const lower = (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : null);

function truthKey(r: TruthRecord): string {
  switch (r.kind) {
    case 'user':
      return JSON.stringify([
        'user',
        r.id,
        r.userPrincipalName,
        r.displayName,
        lower(r.mail),
        r.accountEnabled,
        r.userType,
        r.externalUserState,
        r.managerId,
        t(r.lastSignInDateTime),
        r.isMfaRegistered,
      ]);
    case 'group':
      return JSON.stringify(['group', r.id, r.displayName, lower(r.mail)]);
    case 'member':
      return JSON.stringify(['member', r.groupId, r.memberId]);
    case 'noDrive':
      return JSON.stringify(['noDrive', r.userId]);
    case 'drive':
      return JSON.stringify([
        'drive',
        r.id,
        r.ownerId,
        r.driveType,
        r.quotaTotal,
        r.quotaUsed,
        r.quotaRemaining,
        r.quotaDeleted,
        r.quotaState,
      ]);
    case 'item':
      return JSON.stringify([
        'item',
        r.driveId,
        r.id,
        r.parentId,
        r.name,
        r.path,
        r.isFolder,
        r.size,
        t(r.lastModifiedDateTime),
        r.sharedScope,
      ]);
    case 'permission':
      return JSON.stringify([
        'permission',
        r.driveId,
        r.itemId,
        r.id,
        [...r.roles].sort(),
        r.linkType,
        r.linkScope,
        t(r.expirationDateTime),
        [...r.recipients].sort(),
      ]);
  }
}

/** The inventory of one integration, in the same canonical form as the truth. */
async function inventoryKeys(store: Store, integrationId: string): Promise<string[]> {
  const db = store.db;
  const b = (v: unknown) => decodeValue('boolean', v) as boolean | null;
  const out: string[] = [];
  const mfa = new Map(
    (
      await db
        .selectFrom('user_mfa')
        .select(['id', 'is_mfa_registered'])
        .where('integration_id', '=', integrationId)
        .where('deleted_at', 'is', null)
        .execute()
    ).map((r) => [r.id, b(r.is_mfa_registered)]),
  );
  for (const u of await db
    .selectFrom('users')
    .selectAll()
    .where('integration_id', '=', integrationId)
    .where('deleted_at', 'is', null)
    .execute()) {
    out.push(
      JSON.stringify([
        'user',
        u.id,
        u.user_principal_name,
        u.display_name,
        u.mail,
        b(u.account_enabled),
        u.user_type,
        u.external_user_state,
        u.manager_id,
        t(u.sign_in_last),
        mfa.has(u.id) ? mfa.get(u.id) : null,
      ]),
    );
  }
  for (const g of await db
    .selectFrom('groups')
    .selectAll()
    .where('integration_id', '=', integrationId)
    .where('deleted_at', 'is', null)
    .execute()) {
    out.push(JSON.stringify(['group', g.id, g.display_name, g.mail]));
  }
  for (const m of await db
    .selectFrom('group_members')
    .select(['group_id', 'id'])
    .where('integration_id', '=', integrationId)
    .where('deleted_at', 'is', null)
    .execute()) {
    out.push(JSON.stringify(['member', m.group_id, m.id]));
  }
  for (const s of await db
    .selectFrom('user_drives')
    .select(['id', 'provisioned'])
    .where('integration_id', '=', integrationId)
    .where('deleted_at', 'is', null)
    .execute()) {
    if (!b(s.provisioned)) out.push(JSON.stringify(['noDrive', s.id]));
  }
  for (const d of await db
    .selectFrom('drives')
    .selectAll()
    .where('integration_id', '=', integrationId)
    .where('deleted_at', 'is', null)
    .execute()) {
    out.push(
      JSON.stringify([
        'drive',
        d.id,
        d.owner_id,
        d.drive_type,
        d.quota_total,
        d.quota_used,
        d.quota_remaining,
        d.quota_deleted,
        d.quota_state,
      ]),
    );
  }
  for (const i of await db
    .selectFrom('drive_items')
    .select([
      'drive_id',
      'id',
      'parent_id',
      'name',
      'path',
      'is_folder',
      'size',
      'modified_at',
      'shared_scope',
    ])
    .where('integration_id', '=', integrationId)
    .where('deleted_at', 'is', null)
    .execute()) {
    out.push(
      JSON.stringify([
        'item',
        i.drive_id,
        i.id,
        i.parent_id,
        i.name,
        i.path,
        b(i.is_folder),
        i.size,
        t(i.modified_at),
        i.shared_scope,
      ]),
    );
  }
  for (const p of await db
    .selectFrom('permissions')
    .select(['drive_id', 'item_id', 'id', 'roles', 'link_type', 'link_scope', 'expiration', 'recipients'])
    .where('integration_id', '=', integrationId)
    .where('deleted_at', 'is', null)
    .execute()) {
    out.push(
      JSON.stringify([
        'permission',
        p.drive_id,
        p.item_id,
        p.id,
        [...((decodeValue('json', p.roles) as string[]) ?? [])].sort(),
        p.link_type,
        p.link_scope,
        t(p.expiration),
        [...((decodeValue('json', p.recipients) as string[]) ?? [])].sort(),
      ]),
    );
  }
  return out;
}

export interface TruthDiff {
  counts: Record<string, number>;
  missing: string[];
  extra: string[];
}

/** Differences between the inventory and the simulator's truth (empty missing/extra = exact). */
export async function diffWithTruth(
  store: Store,
  integrationId: string,
  admin: SimAdminClient,
): Promise<TruthDiff> {
  const expected = new Map<string, number>();
  const counts: Record<string, number> = {};
  for await (const r of admin.truth()) {
    const k = truthKey(r);
    expected.set(k, (expected.get(k) ?? 0) + 1);
    counts[r.kind] = (counts[r.kind] ?? 0) + 1;
  }
  const extra: string[] = [];
  for (const k of await inventoryKeys(store, integrationId)) {
    const n = expected.get(k);
    if (n === undefined) extra.push(k);
    else if (n === 1) expected.delete(k);
    else expected.set(k, n - 1);
  }
  return { counts, missing: [...expected.keys()], extra };
}

/** A short human report of a diff for assertion messages. */
export function describeDiff(d: TruthDiff, max = 8): string {
  return [
    `missing ${d.missing.length}, extra ${d.extra.length}`,
    ...d.missing.slice(0, max).map((k) => `  - ${k}`),
    ...d.extra.slice(0, max).map((k) => `  + ${k}`),
  ].join('\n');
}
