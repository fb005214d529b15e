import { sql } from 'kysely';
import { z } from 'zod';
import { type AuditEventFilter, auditEventsQuery, timelineEntry } from '../../../store/activity-queries.ts';
import { decodeValue } from '../../../store/codec.ts';
import type { ApiDeps } from '../deps.ts';
import { notFound } from '../errors.ts';
import { afterCursor, listQuerySchema, orderByKeys, pageSchema, sortKeys, toPage } from '../pagination.ts';
import { integrationFilter, resourceParams } from '../schemas.ts';
import type { ZodApp } from '../zod-app.ts';

/**
 * Activity from the audit feed (audit_events): every event with filters, a user's timeline and
 * an item's access history, newest first by default, in keyset pages (time, then the event's
 * integration and id). The queries are the ones `drivewarden activity` runs (store/activity-queries.ts).
 */

const tags = ['activity'];

const isoTime = z.iso
  .datetime({ offset: true })
  .transform((s) => new Date(s).toISOString())
  .describe('ISO 8601 time');

const filterSchema = {
  integrationId: integrationFilter,
  from: isoTime.optional().describe('Events at or after this time'),
  to: isoTime.optional().describe('Events before this time'),
  operation: z
    .string()
    .max(2000)
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .pipe(
      z.array(z.string().regex(/^[A-Za-z]{1,80}$/, 'must be an operation name like FileDownloaded')).max(50),
    )
    .optional()
    .describe('Operations, comma-separated (FileAccessed,FileDownloaded,SharingSet,…)'),
};

const eventSchema = z.object({
  integrationId: z.string(),
  id: z.string().describe('The audit record id'),
  time: z.string(),
  operation: z.string(),
  actor: z.string().nullable().describe('UserId (lower case)'),
  clientIp: z.string().nullable(),
  driveId: z.string().nullable().describe('The inventory drive, when the event resolved to one'),
  itemId: z.string().nullable().describe('The inventory item, when the event resolved to one'),
  fileName: z.string().nullable(),
  objectUrl: z.string().nullable(),
  target: z.string().nullable().describe('Whom a sharing operation targeted'),
  linkScope: z.string().nullable(),
});

export async function activityRoutes(app: ZodApp, deps: ApiDeps): Promise<void> {
  const { db } = deps;

  /** One keyset page of events matching `filter`. */
  const page = async (filter: AuditEventFilter, q: { limit: number; cursor?: string; sort?: string }) => {
    const { keys } = sortKeys(q.sort, { time: sql.ref('time') }, '-time', [
      sql.ref('integration_id'),
      sql.ref('id'),
    ]);
    let query = auditEventsQuery(db, filter);
    if (q.cursor) query = query.where(afterCursor(keys, q.cursor));
    const rows = await query
      .orderBy(orderByKeys(keys))
      .limit(q.limit + 1)
      .execute();
    const p = toPage(rows, q.limit, (r) => [decodeValue('timestamp', r.time), r.integration_id, r.id]);
    return {
      items: p.items.map((r) => ({ integrationId: r.integration_id, id: r.id, ...timelineEntry(r) })),
      nextCursor: p.nextCursor,
    };
  };

  app.get(
    '/activity/events',
    {
      config: { access: 'viewer' },
      schema: {
        tags,
        summary: 'Audit events with filters (operation, actor, client IP, time window)',
        querystring: listQuerySchema.extend({
          ...filterSchema,
          actor: z.string().min(1).max(320).optional().describe('UserId (UPN) of who acted'),
          ip: z.string().min(1).max(64).optional().describe('Client IP address'),
        }),
        response: { 200: pageSchema(eventSchema) },
      },
    },
    async (request) => {
      const q = request.query;
      return page(
        {
          integrationId: q.integrationId,
          actor: q.actor,
          operations: q.operation,
          clientIp: q.ip,
          from: q.from,
          to: q.to,
        },
        q,
      );
    },
  );

  app.get(
    '/activity/users/:upn',
    {
      config: { access: 'viewer' },
      schema: {
        tags,
        summary: "A user's activity timeline",
        params: z.object({ upn: z.string().min(1).max(320).describe('UserId (UPN), any case') }),
        querystring: listQuerySchema.extend(filterSchema),
        response: { 200: pageSchema(eventSchema) },
      },
    },
    async (request) => {
      const q = request.query;
      return page(
        {
          integrationId: q.integrationId,
          actor: request.params.upn,
          operations: q.operation,
          from: q.from,
          to: q.to,
        },
        q,
      );
    },
  );

  app.get(
    '/activity/items/:integrationId/:id',
    {
      config: { access: 'viewer' },
      schema: {
        tags,
        summary: "An item's access history (events resolved to it, or naming its URL)",
        params: resourceParams,
        querystring: listQuerySchema.extend({
          from: filterSchema.from,
          to: filterSchema.to,
          operation: filterSchema.operation,
          driveId: z.string().min(1).max(200).optional().describe('The drive, when the id is ambiguous'),
        }),
        response: {
          200: pageSchema(eventSchema).extend({
            item: z.object({
              integrationId: z.string(),
              driveId: z.string(),
              id: z.string(),
              name: z.string().nullable(),
              path: z.string().nullable(),
              webUrl: z.string().nullable(),
            }),
          }),
        },
      },
    },
    async (request) => {
      const { integrationId, id } = request.params;
      const q = request.query;
      let lookup = db
        .selectFrom('drive_items')
        .select(['drive_id', 'id', 'name', 'path', 'web_url'])
        .where('integration_id', '=', integrationId)
        .where('id', '=', id);
      if (q.driveId) lookup = lookup.where('drive_id', '=', q.driveId);
      const item = await lookup.orderBy('drive_id').executeTakeFirst();
      if (!item) throw notFound(`item ${id}`);
      const events = await page(
        {
          integrationId,
          item: { driveId: item.drive_id, itemId: item.id, webUrl: item.web_url },
          operations: q.operation,
          from: q.from,
          to: q.to,
        },
        q,
      );
      return {
        item: {
          integrationId,
          driveId: item.drive_id,
          id: item.id,
          name: item.name ?? null,
          path: item.path ?? null,
          webUrl: item.web_url ?? null,
        },
        ...events,
      };
    },
  );
}
