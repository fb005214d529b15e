import { type Kysely, type SqlBool, sql } from 'kysely';
import { z } from 'zod';
import type { Database } from '../../../../store/schema.ts';
import { driveRowSchema, toDriveRow } from '../inventory/directory-lists.ts';

/** Top consumers (drives by bytes used, largest files) and the quota states at a glance. */

export const topQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(10).describe('Rows of each list (1–100)'),
  integrationId: z.string().min(1).max(200).optional().describe('Only this integration'),
});

export const topSchema = z.object({
  totals: z.object({ drives: z.number(), used: z.number(), total: z.number(), deleted: z.number() }),
  quotaStates: z
    .object({
      normal: z.number(),
      nearing: z.number(),
      critical: z.number(),
      exceeded: z.number(),
      unknown: z.number(),
    })
    .describe('Drives per quota state'),
  drives: z.array(driveRowSchema).describe('Drives using the most bytes'),
  files: z
    .array(
      z.object({
        integrationId: z.string(),
        driveId: z.string(),
        id: z.string(),
        name: z.string().nullable(),
        path: z.string().nullable(),
        size: z.number(),
        owner: z.string().nullable(),
      }),
    )
    .describe('Largest live files'),
});

export async function storageTop(db: Kysely<Database>, q: z.infer<typeof topQuerySchema>) {
  const integration = (column: string) =>
    q.integrationId ? sql<SqlBool>`${sql.ref(column)} = ${q.integrationId}` : sql<SqlBool>`1 = 1`;
  const states = await db
    .selectFrom('drives')
    .select((eb) => [
      'quota_state',
      eb.fn.countAll<number | string>().as('n'),
      eb.fn.sum<number | string>('quota_used').as('used'),
      eb.fn.sum<number | string>('quota_total').as('total'),
      eb.fn.sum<number | string>('quota_deleted').as('deleted'),
    ])
    .where('deleted_at', 'is', null)
    .where(integration('integration_id'))
    .groupBy('quota_state')
    .execute();
  const quotaStates = { normal: 0, nearing: 0, critical: 0, exceeded: 0, unknown: 0 };
  const totals = { drives: 0, used: 0, total: 0, deleted: 0 };
  for (const s of states) {
    const key =
      s.quota_state && s.quota_state in quotaStates ? (s.quota_state as keyof typeof quotaStates) : 'unknown';
    quotaStates[key] += Number(s.n);
    totals.drives += Number(s.n);
    totals.used += Number(s.used ?? 0);
    totals.total += Number(s.total ?? 0);
    totals.deleted += Number(s.deleted ?? 0);
  }
  const drives = await db
    .selectFrom('drives')
    .selectAll()
    .where('deleted_at', 'is', null)
    .where(integration('integration_id'))
    .orderBy(sql`coalesce(quota_used, -1) desc`)
    .orderBy('integration_id')
    .orderBy('id')
    .limit(q.limit)
    .execute();
  // The size index (migration 0720) in descending order; folders skipped as the walk meets them.
  const { rows: files } = await sql<{
    integration_id: string;
    drive_id: string;
    id: string;
    name: string | null;
    path: string | null;
    size: number | string;
    owner_email: string | null;
  }>`select i.integration_id, i.drive_id, i.id, i.name, i.path, i.size, d.owner_email
    from (select integration_id, drive_id, id, name, path, size from drive_items
      where deleted_at is null and is_folder = false and ${integration('integration_id')}
      order by coalesce(size, -1) desc, integration_id desc, drive_id desc, id desc limit ${q.limit}) i
    left join drives d on d.integration_id = i.integration_id and d.id = i.drive_id
    order by coalesce(i.size, -1) desc, i.integration_id desc, i.drive_id desc, i.id desc`.execute(db);
  return {
    totals,
    quotaStates,
    drives: drives.map(toDriveRow),
    files: files.map((f) => ({
      integrationId: f.integration_id,
      driveId: f.drive_id,
      id: f.id,
      name: f.name,
      path: f.path,
      size: Number(f.size ?? 0),
      owner: f.owner_email,
    })),
  };
}
