import { type Kysely, type SqlBool, sql } from 'kysely';
import { z } from 'zod';
import { type Audience, exposureOf, grantsOf } from '../../../../resources/grant.ts';
import { permissionSchema } from '../../../../resources/permission.ts';
import { decodeValue } from '../../../../store/codec.ts';
import type { Database } from '../../../../store/schema.ts';

/**
 * Exposure at a glance: live files (folders excluded) and their bytes per exposure, read from
 * the covering index drive_items_api_exposure; and the trend per day. Exposure is derived
 * (no history of its own), so the trend counts sharing roots — items with permissions of their
 * own — per day, each classified by exposureOf over the grants of the permissions alive that
 * day (permission rows are tombstoned, never deleted: first_seen..deleted_at is their life).
 */

const filesBytes = z.object({ files: z.number(), bytes: z.number() });
export const exposureSchema = z.object({
  public: filesBytes,
  external: filesBytes,
  internal: filesBytes,
  private: filesBytes,
});
export const exposureTrendSchema = z
  .array(z.object({ day: z.string(), public: z.number(), external: z.number(), internal: z.number() }))
  .describe(
    'Per UTC day (oldest first): sharing roots by exposure, from the permissions alive at the end of that day',
  );

export async function exposureCounts(db: Kysely<Database>, integrationId?: string) {
  let q = db
    .selectFrom('drive_items')
    .select((eb) => [
      'exposure',
      eb.fn.countAll<number | string>().as('n'),
      eb.fn.sum<number | string>('size').as('bytes'),
    ])
    .where('deleted_at', 'is', null)
    .where(sql<SqlBool>`is_folder = false`)
    .groupBy('exposure');
  if (integrationId) q = q.where('integration_id', '=', integrationId);
  const out = {
    public: { files: 0, bytes: 0 },
    external: { files: 0, bytes: 0 },
    internal: { files: 0, bytes: 0 },
    private: { files: 0, bytes: 0 },
  };
  for (const r of await q.execute())
    if (r.exposure && r.exposure in out)
      out[r.exposure as keyof typeof out] = { files: Number(r.n), bytes: Number(r.bytes ?? 0) };
  return out;
}

const DAY = 86_400_000;

export async function exposureTrend(db: Kysely<Database>, now: Date, days: number, integrationId?: string) {
  const start = new Date(Math.floor(now.getTime() / DAY) * DAY - (days - 1) * DAY);
  let iq = db.selectFrom('integrations').select(['id', 'tenant_id', 'verified_domains']);
  if (integrationId) iq = iq.where('id', '=', integrationId);
  const integrations = await iq.execute();
  const dayEnds = Array.from({ length: days }, (_, i) =>
    new Date(start.getTime() + (i + 1) * DAY).toISOString(),
  );
  const counts = dayEnds.map(() => ({ public: 0, external: 0, internal: 0 }));
  for (const integration of integrations) {
    const domains = decodeValue('json', integration.verified_domains);
    const perms = await db
      .selectFrom('permissions')
      .select(['drive_id', 'item_id', 'raw', 'first_seen', 'deleted_at'])
      .where('integration_id', '=', integration.id)
      .where((eb) => eb.or([eb('deleted_at', 'is', null), eb('deleted_at', '>=', start.toISOString())]))
      .execute();
    // Per sharing root: each permission's life and the audiences its grants reach.
    const roots = new Map<string, Array<{ from: string; to: string | null; audiences: Audience[] }>>();
    for (const p of perms) {
      const parsed = permissionSchema.safeParse(decodeValue('json', p.raw));
      if (!parsed.success) continue;
      const audiences = grantsOf(parsed.data, {
        integrationId: integration.id,
        tenantId: integration.tenant_id,
        driveId: p.drive_id,
        itemId: p.item_id,
        verifiedDomains: Array.isArray(domains) ? domains.map(String) : [],
      }).map((g) => g.audience);
      const key = `${p.drive_id}\u0000${p.item_id}`;
      const list = roots.get(key) ?? [];
      list.push({ from: p.first_seen, to: p.deleted_at, audiences });
      roots.set(key, list);
    }
    for (const lives of roots.values())
      dayEnds.forEach((end, d) => {
        const alive = lives.filter((l) => l.from < end && (l.to === null || l.to >= end));
        if (alive.length === 0) return;
        const e = exposureOf(alive.flatMap((l) => l.audiences.map((audience) => ({ audience }))));
        if (e !== 'private') counts[d][e] += 1;
      });
  }
  return dayEnds.map((end, d) => ({
    day: new Date(Date.parse(end) - DAY).toISOString().slice(0, 10),
    ...counts[d],
  }));
}
