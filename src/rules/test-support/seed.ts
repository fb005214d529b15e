import type { Kysely } from 'kysely';
import type { Database } from '../../store/schema.ts';

/**
 * Minimal inventory rows for rule tests: only the columns the rules read, on the standard
 * columns every resource table has. Both dialects accept these values as they are.
 */

export const SEEN = '2026-01-01T00:00:00.000Z';

const standard = (integrationId: string, deletedAt: string | null = null) => ({
  integration_id: integrationId,
  tenant_id: 't1',
  first_seen: SEEN,
  last_seen: SEEN,
  deleted_at: deletedAt,
});

export async function seedUser(
  db: Kysely<Database>,
  integrationId: string,
  id: string,
  upn: string,
  extra: { deletedAt?: string } = {},
): Promise<void> {
  await db
    .insertInto('users')
    .values({
      ...standard(integrationId, extra.deletedAt),
      id,
      user_principal_name: upn,
      mail: upn.toLowerCase(),
      display_name: upn.split('@')[0],
    })
    .execute();
}

export async function seedGroup(
  db: Kysely<Database>,
  integrationId: string,
  id: string,
  name: string,
  members: string[],
  extra: { deletedMembers?: string[] } = {},
): Promise<void> {
  await db
    .insertInto('groups')
    .values({ ...standard(integrationId), id, display_name: name })
    .execute();
  for (const member of [...members, ...(extra.deletedMembers ?? [])]) {
    const deleted = extra.deletedMembers?.includes(member) ? SEEN : null;
    await db
      .insertInto('group_members')
      .values({ ...standard(integrationId, deleted), group_id: id, id: member, member_type: 'user' })
      .execute();
  }
}

export interface SeedDrive {
  id: string;
  ownerId: string;
  ownerKind?: 'user' | 'group';
  ownerEmail?: string;
  used: number | null;
  total: number | null;
  deletedAt?: string;
}

export async function seedDrive(db: Kysely<Database>, integrationId: string, d: SeedDrive): Promise<void> {
  await db
    .insertInto('drives')
    .values({
      ...standard(integrationId, d.deletedAt ?? null),
      id: d.id,
      owner_id: d.ownerId,
      owner_kind: d.ownerKind ?? 'user',
      owner_email: d.ownerEmail ?? null,
      owner_name: d.ownerEmail ? d.ownerEmail.split('@')[0] : null,
      name: 'OneDrive',
      drive_type: 'business',
      quota_used: d.used,
      quota_total: d.total,
    })
    .execute();
}
