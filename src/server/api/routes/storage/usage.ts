import { type Kysely, sql } from 'kysely';
import { z } from 'zod';
import type { Database } from '../../../../store/schema.ts';
import { afterCursor, listQuerySchema, orderByKeys, sortKeys, toPage } from '../../pagination.ts';

/**
 * Storage used per user (the drives they own) or per group (the drives of its transitive user
 * members), paged in SQL over the aggregate (thousands of rows: one per user or group).
 */

export const usageQuerySchema = listQuerySchema.extend({
  by: z.enum(['user', 'group']).default('user').describe('Aggregate per drive owner or per group of owners'),
  sort: z.string().max(64).optional().describe('used | total | name, - for descending (default -used)'),
  integrationId: z.string().min(1).max(200).optional().describe('Only this integration'),
});

export const usageRowSchema = z.object({
  integrationId: z.string(),
  id: z.string().describe('The user or group id'),
  name: z.string().nullable(),
  email: z.string().nullable(),
  drives: z.number(),
  used: z.number().describe('Bytes used'),
  total: z.number().describe('Bytes of quota'),
  deleted: z.number().describe('Bytes in the recycle bins'),
  worstQuotaState: z.string().nullable().describe('exceeded > critical > nearing > normal'),
});

const STATE_RANK = sql`case quota_state when 'exceeded' then 4 when 'critical' then 3 when 'nearing' then 2 when 'normal' then 1 else 0 end`;
const RANK_STATE = ['', 'normal', 'nearing', 'critical', 'exceeded'];

export async function storageUsage(db: Kysely<Database>, q: z.infer<typeof usageQuerySchema>) {
  const live = sql`d.deleted_at is null and d.owner_kind = 'user'`;
  const onlyIntegration = q.integrationId ? sql`and d.integration_id = ${q.integrationId}` : sql``;
  const aggregate =
    q.by === 'user'
      ? sql`select d.integration_id, d.owner_id as id, max(d.owner_name) as name, max(d.owner_email) as email,
            count(*) as drives, coalesce(sum(d.quota_used), 0) as used, coalesce(sum(d.quota_total), 0) as total,
            coalesce(sum(d.quota_deleted), 0) as deleted, max(${STATE_RANK}) as state_rank
          from drives d where ${live} and d.owner_id is not null ${onlyIntegration}
          group by d.integration_id, d.owner_id`
      : sql`select g.integration_id, g.id, max(g.display_name) as name, max(g.mail) as email,
            count(*) as drives, coalesce(sum(d.quota_used), 0) as used, coalesce(sum(d.quota_total), 0) as total,
            coalesce(sum(d.quota_deleted), 0) as deleted, max(${STATE_RANK}) as state_rank
          from groups g
          join group_members m on m.integration_id = g.integration_id and m.group_id = g.id and m.deleted_at is null
          join drives d on d.integration_id = m.integration_id and d.owner_id = m.id
          where g.deleted_at is null and ${live} ${onlyIntegration}
          group by g.integration_id, g.id`;
  const { keys } = sortKeys(
    q.sort,
    { used: sql.ref('a.used'), total: sql.ref('a.total'), name: sql`coalesce(a.name, '')` },
    '-used',
    [sql.ref('a.integration_id'), sql.ref('a.id')],
  );
  const where = q.cursor ? sql`where ${afterCursor(keys, q.cursor)}` : sql``;
  const { rows } = await sql<Record<string, unknown>>`select a.*, ${sql.join(
    keys.map((k, i) => sql`${k.expr} as ${sql.ref(`dw_k${i}`)}`),
  )} from (${aggregate}) a ${where} order by ${orderByKeys(keys)} limit ${q.limit + 1}`.execute(db);
  const page = toPage(rows, q.limit, (r) => keys.map((_, i) => r[`dw_k${i}`]));
  return {
    items: page.items.map((r) => ({
      integrationId: String(r.integration_id),
      id: String(r.id),
      name: (r.name as string | null) ?? null,
      email: (r.email as string | null) ?? null,
      drives: Number(r.drives),
      used: Number(r.used),
      total: Number(r.total),
      deleted: Number(r.deleted),
      worstQuotaState: RANK_STATE[Number(r.state_rank)] || null,
    })),
    nextCursor: page.nextCursor,
  };
}
