import { type Kysely, type RawBuilder, type SqlBool, sql } from 'kysely';
import { z } from 'zod';
import type { Database } from '../../../../store/schema.ts';
import { listQuerySchema } from '../../pagination.ts';
import { csv } from '../../schemas.ts';

/**
 * The filters of `GET /inventory/items` and how each becomes SQL over the page window `w`
 * (a row of drive_items; see item-list.ts). Exposure is the collector's derived
 * drive_items.exposure (src/store/access.ts, exposureOf in src/resources/grant.ts): never
 * recomputed here. Link scope, outside domain and guest read the grants of the item's access
 * root, the same grants whoCanReach lists.
 */

const bool = z
  .enum(['true', 'false'])
  .transform((v) => v === 'true')
  .describe('true or false');
const isoTime = z.string().datetime({ offset: true }).describe('ISO 8601 time');

export const itemListQuerySchema = listQuerySchema.extend({
  sort: z
    .string()
    .max(64)
    .optional()
    .describe('name | path | size | modified, - prefix for descending (default name). path sorts per drive'),
  q: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe(
      'Case-insensitive substring of the path (the name for items whose path is not known yet). Evaluated on the rows a page examines (see the list description), never a full scan',
    ),
  exposure: csv(['public', 'external', 'internal', 'private'])
    .optional()
    .describe('Comma-separated exposures: public, external, internal, private'),
  linkScope: csv(['anonymous', 'organization', 'users'])
    .optional()
    .describe('Items reachable through a sharing link of one of these scopes'),
  outsideDomain: z
    .string()
    .min(1)
    .max(253)
    .regex(/^[a-z0-9.-]+$/i, 'a domain such as example.com')
    .optional()
    .describe('Items shared with a guest or outside address of this domain (e.g. gmail.com)'),
  guest: bool.optional().describe('true: items a guest account can reach; false: items no guest can reach'),
  owner: z.string().min(1).max(320).optional().describe("The drive owner's e-mail/UPN or Graph id"),
  extension: z
    .string()
    .max(500)
    .regex(/^[a-z0-9_.,\s-]+$/i, 'comma-separated file extensions such as pdf,docx')
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim().toLowerCase().replace(/^\./, ''))
        .filter(Boolean),
    )
    .optional()
    .describe('Comma-separated file extensions, e.g. pdf,docx'),
  minSize: z.coerce.number().int().min(0).optional().describe('Bytes, inclusive'),
  maxSize: z.coerce.number().int().min(0).optional().describe('Bytes, inclusive'),
  modifiedAfter: isoTime.optional().describe('Modified at or after (ISO 8601)'),
  modifiedBefore: isoTime.optional().describe('Modified before (ISO 8601)'),
  lastAccessedBefore: isoTime
    .optional()
    .describe('No recorded access (audit feed) at or after this time, including items never accessed'),
  folder: bool.optional().describe('true: folders only; false: files only'),
  integrationId: z.string().min(1).max(200).optional().describe('Only this integration'),
  driveId: z.string().min(1).max(400).optional().describe('Only this drive'),
});
export type ItemListQuery = z.infer<typeof itemListQuerySchema>;

/** LIKE pattern matching `text` anywhere, with the wildcards in it escaped (escape char \). */
export function containsPattern(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Drives whose owner is `owner` (e-mail/UPN, case-insensitive, or Graph id). */
export async function drivesOfOwner(
  db: Kysely<Database>,
  owner: string,
  integrationId?: string,
): Promise<Array<{ integration_id: string; id: string }>> {
  let q = db
    .selectFrom('drives')
    .select(['integration_id', 'id'])
    .where('deleted_at', 'is', null)
    .where((eb) => eb.or([eb('owner_email', '=', owner.toLowerCase()), eb('owner_id', '=', owner)]));
  if (integrationId) q = q.where('integration_id', '=', integrationId);
  return q.execute();
}

const grantOnRoot = (extra: RawBuilder<SqlBool>) =>
  sql<SqlBool>`exists (select 1 from grants g where g.integration_id = w.integration_id
    and g.drive_id = w.drive_id and g.item_id = w.access_root_id and ${extra})`;

/** The predicates over the window row `w` (all must hold). Owner and drive are applied by the caller. */
export function itemPredicates(q: ItemListQuery): RawBuilder<SqlBool>[] {
  const out: RawBuilder<SqlBool>[] = [];
  const list = (values: readonly string[]) => sql.join(values.map((v) => sql`${v}`));
  if (q.integrationId) out.push(sql<SqlBool>`w.integration_id = ${q.integrationId}`);
  if (q.q) out.push(sql<SqlBool>`lower(coalesce(w.path, w.name)) like ${containsPattern(q.q)} escape '\\'`);
  if (q.exposure?.length) out.push(sql<SqlBool>`w.exposure in (${list(q.exposure)})`);
  if (q.linkScope?.length)
    out.push(grantOnRoot(sql<SqlBool>`g.link_scope in (${list(q.linkScope)}) and g.is_owner = false`));
  if (q.outsideDomain)
    out.push(
      grantOnRoot(
        sql<SqlBool>`g.recipient_domain = ${q.outsideDomain.toLowerCase()} and g.audience in ('external', 'guest')`,
      ),
    );
  if (q.guest !== undefined) {
    const guest = grantOnRoot(sql<SqlBool>`g.audience = 'guest'`);
    out.push(q.guest ? guest : sql<SqlBool>`not ${guest}`);
  }
  if (q.extension?.length) out.push(sql<SqlBool>`w.extension in (${list(q.extension)})`);
  if (q.minSize !== undefined) out.push(sql<SqlBool>`w.size >= ${q.minSize}`);
  if (q.maxSize !== undefined) out.push(sql<SqlBool>`w.size <= ${q.maxSize}`);
  if (q.modifiedAfter) out.push(sql<SqlBool>`w.modified_at >= ${new Date(q.modifiedAfter).toISOString()}`);
  if (q.modifiedBefore) out.push(sql<SqlBool>`w.modified_at < ${new Date(q.modifiedBefore).toISOString()}`);
  if (q.lastAccessedBefore)
    out.push(sql<SqlBool>`not exists (select 1 from item_usage u where u.integration_id = w.integration_id
      and u.drive_id = w.drive_id and u.item_id = w.id
      and u.last_access_at >= ${new Date(q.lastAccessedBefore).toISOString()})`);
  if (q.folder !== undefined) out.push(sql<SqlBool>`w.is_folder = ${sql.lit(q.folder)}`);
  return out;
}
