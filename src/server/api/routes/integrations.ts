import type { FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import { z } from 'zod';
import { addInput } from '../../../app/commands/integrations.ts';
import { capabilities } from '../../../resources/capabilities.ts';
import { decodeValue } from '../../../store/codec.ts';
import { integrationHealth } from '../../../store/integration-health.ts';
import { purgeCounts } from '../../../store/integrations.ts';
import { actorOf } from '../access.ts';
import type { ApiDeps } from '../deps.ts';
import { notFound } from '../errors.ts';
import { afterCursor, listQuerySchema, orderByKeys, pageSchema, sortKeys, toPage } from '../pagination.ts';
import type { ZodApp } from '../zod-app.ts';

/**
 * Integrations (connected tenants): list with their collection health, add with credentials
 * (probed first), probe again, disable, enable, delete (with a purge preview and a
 * confirmation by name), and "Connect with Microsoft" (admin consent for drivewarden's own
 * multi-tenant app). Reads go to the database; every change is a command.
 */

const tags = ['integrations'];
const idParams = z.object({ id: z.string().min(1).max(200).describe('Integration id') });

const probeSchema = z.object({
  capability: z.string(),
  permission: z.string().describe('Application permission (Microsoft Graph unless named otherwise)'),
  granted: z.boolean(),
  status: z.enum(['granted', 'missing', 'error', 'skipped']),
  unlocks: z.string().describe('What drivewarden can do with it'),
  detail: z.string().nullable().describe('Graph error code and request id when not granted'),
});

const integrationSchema = z.object({
  id: z.string(),
  name: z.string(),
  tenantId: z.string(),
  clientId: z.string(),
  enabled: z.boolean(),
  authKind: z.enum(['secret', 'certificate']),
  createdAt: z.string(),
  probedAt: z.string().nullable(),
});

const healthFields = {
  status: z
    .enum(['disabled', 'pending', 'syncing', 'error', 'degraded', 'ok'])
    .describe(
      'disabled; pending (never collected); syncing (full enumeration running); error (the last round of some scope failed); degraded (open errors such as a missing permission); ok',
    ),
  lastSyncAt: z.string().nullable().describe('Newest successful collection round'),
  items: z.number().int().describe('Live files and folders'),
  drives: z.number().int().describe('Live drives'),
  openErrors: z.number().int(),
  lastError: z
    .object({
      resourceType: z.string(),
      resourceId: z.string().nullable(),
      code: z.string(),
      message: z.string(),
      at: z.string(),
      count: z.number().int(),
    })
    .nullable()
    .describe('The most recent open collection error'),
  missingPermissions: z.array(z.string()).describe('Permissions the last probe found missing'),
};

const listRowSchema = integrationSchema.extend(healthFields);

/** The stored probe ({capability: status}) with each capability's permission and purpose. */
function storedProbe(raw: unknown): z.infer<typeof probeSchema>[] {
  if (!raw || typeof raw !== 'object') return [];
  const caps = capabilities();
  return Object.entries(raw as Record<string, string>).map(([capability, status]) => {
    const cap = caps.find((c) => c.capability === capability);
    const s = (['granted', 'missing', 'error', 'skipped'] as const).find((x) => x === status) ?? 'error';
    return {
      capability,
      permission: cap?.permission ?? '',
      granted: s === 'granted',
      status: s,
      unlocks: cap?.neededFor ?? '',
      detail: null,
    };
  });
}

/** Where Microsoft sends the admin back: the public URL when set, else the origin the admin used. */
function callbackUrl(deps: ApiDeps, request: FastifyRequest): string {
  const base = deps.config.server.publicUrl ?? `${request.protocol}://${request.host}`;
  return `${base.replace(/\/+$/, '')}/api/v1/connect/microsoft/callback`;
}

export async function integrationsRoutes(app: ZodApp, deps: ApiDeps): Promise<void> {
  const { db } = deps;

  type Row = {
    id: string;
    name: string;
    tenant_id: string;
    client_id: string;
    enabled: unknown;
    certificate_enc: string | null;
    created_at: string;
    probe: unknown;
    probed_at: string | null;
  };
  const selectRow = () =>
    db.selectFrom('integrations').select([
      'id',
      'name',
      'tenant_id',
      'client_id',
      'enabled',
      // Only whether there is one: the sealed value never leaves this query.
      sql<string | null>`case when certificate_enc is null then null else 'x' end`.as('certificate_enc'),
      'created_at',
      'probe',
      'probed_at',
    ]);
  const rowView = async (r: Row) => {
    const enabled = decodeValue('boolean', r.enabled) as boolean;
    const probe = storedProbe(decodeValue('json', r.probe));
    return {
      id: r.id,
      name: r.name,
      tenantId: r.tenant_id,
      clientId: r.client_id,
      enabled,
      authKind: r.certificate_enc ? ('certificate' as const) : ('secret' as const),
      createdAt: String(decodeValue('timestamp', r.created_at)),
      probedAt: r.probed_at === null ? null : String(decodeValue('timestamp', r.probed_at)),
      ...(await integrationHealth(db, { id: r.id, enabled })),
      missingPermissions: [...new Set(probe.filter((p) => !p.granted).map((p) => p.permission))],
      probe,
    };
  };

  app.get(
    '/integrations',
    {
      config: { access: 'viewer' },
      schema: {
        tags,
        summary: 'Integrations with their collection health',
        querystring: listQuerySchema,
        response: { 200: pageSchema(listRowSchema) },
      },
    },
    async (request) => {
      const { limit, cursor, sort } = request.query;
      const { keys } = sortKeys(sort, { name: sql`name`, createdAt: sql`created_at` }, 'name', [sql`id`]);
      let q = selectRow();
      if (cursor) q = q.where(afterCursor(keys, cursor));
      const rows = (await q
        .orderBy(orderByKeys(keys))
        .limit(limit + 1)
        .execute()) as Row[];
      const page = toPage(rows, limit, (r) => [
        sort?.replace(/^-/, '') === 'createdAt' ? r.created_at : r.name,
        r.id,
      ]);
      return { items: await Promise.all(page.items.map(rowView)), nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/integrations/:id',
    {
      config: { access: 'viewer' },
      schema: {
        tags,
        summary: 'One integration: health, the last probe per permission, verified domains',
        params: idParams,
        response: {
          200: listRowSchema.extend({ probe: z.array(probeSchema), verifiedDomains: z.array(z.string()) }),
        },
      },
    },
    async (request) => {
      const row = (await selectRow()
        .select('verified_domains')
        .where('id', '=', request.params.id)
        .executeTakeFirst()) as (Row & { verified_domains: unknown }) | undefined;
      if (!row) throw notFound(`integration ${request.params.id}`);
      return {
        ...(await rowView(row)),
        verifiedDomains: (decodeValue('json', row.verified_domains) as string[] | null) ?? [],
      };
    },
  );

  app.post(
    '/integrations',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'Add an integration with credentials: probes every permission first, then starts collecting',
        description:
          'Credentials Microsoft refuses (wrong secret, unknown tenant or app) → 422 credentials_rejected and nothing is stored. Missing permissions do not refuse: the probe lists them with what they unlock.',
        body: addInput,
        response: { 201: z.object({ integration: integrationSchema, probe: z.array(probeSchema) }) },
      },
    },
    async (request, reply) => {
      const result = await deps.commands.run('integrations.add', request.body, actorOf(request));
      return reply.code(201).send(result);
    },
  );

  for (const verb of ['probe', 'disable', 'enable'] as const) {
    app.post(
      `/integrations/:id/${verb}`,
      {
        config: { access: 'admin' },
        schema: {
          tags,
          summary:
            verb === 'probe'
              ? 'Probe every permission again with the stored credentials'
              : verb === 'disable'
                ? 'Pause all collection and webhooks (the data stays)'
                : 'Resume collection',
          params: idParams,
          response: {
            200: z.object({
              integration: integrationSchema,
              probe: z.array(probeSchema).optional(),
              subscriptions: z
                .object({
                  deleted: z.number().int(),
                  errors: z.array(z.object({ id: z.string(), error: z.string() })),
                })
                .optional()
                .describe('Graph subscriptions deleted on disable'),
            }),
          },
        },
      },
      async (request) =>
        deps.commands.run(`integrations.${verb}`, { id: request.params.id }, actorOf(request)),
    );
  }

  app.get(
    '/integrations/:id/purge-preview',
    {
      config: { access: 'viewer' },
      schema: {
        tags,
        summary: 'What deleting the integration would purge: rows per table',
        params: idParams,
        response: {
          200: z.object({
            id: z.string(),
            name: z.string().describe('Pass as ?confirm= to DELETE'),
            tables: z
              .record(z.string(), z.number().int())
              .describe('Rows per table (tables with none left out)'),
            totalRows: z.number().int(),
          }),
        },
      },
    },
    async (request) => {
      const row = await db
        .selectFrom('integrations')
        .select(['id', 'name'])
        .where('id', '=', request.params.id)
        .executeTakeFirst();
      if (!row) throw notFound(`integration ${request.params.id}`);
      const tables = await purgeCounts(db, deps.dialect, row.id);
      return {
        id: row.id,
        name: row.name,
        tables,
        totalRows: Object.values(tables).reduce((a, b) => a + b, 0),
      };
    },
  );

  app.delete(
    '/integrations/:id',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'Delete an integration: its Graph subscriptions, then every row it owns',
        params: idParams,
        querystring: z.object({
          confirm: z.string().max(200).describe("The integration's name (see purge-preview)"),
        }),
        response: {
          200: z.object({
            deleted: z.string(),
            name: z.string(),
            rowsPurged: z.number().int(),
            subscriptions: z.object({
              deleted: z.number().int(),
              errors: z.array(z.object({ id: z.string(), error: z.string() })),
            }),
          }),
        },
      },
    },
    async (request) =>
      deps.commands.run(
        'integrations.delete',
        { id: request.params.id, confirm: request.query.confirm },
        actorOf(request),
      ),
  );

  // ---------- Connect with Microsoft ----------

  app.get(
    '/connect/microsoft',
    {
      config: { access: 'viewer' },
      schema: {
        tags,
        summary: 'Whether Connect with Microsoft is configured (drivewarden’s multi-tenant app)',
        response: { 200: z.object({ configured: z.boolean(), clientId: z.string().nullable() }) },
      },
    },
    async () => ({
      configured: Boolean(deps.config.connect.clientId && deps.config.connect.clientSecret),
      clientId: deps.config.connect.clientId ?? null,
    }),
  );

  app.get(
    '/connect/microsoft/start',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'Start Connect with Microsoft: the admin-consent URL to send the browser to',
        description:
          'The URL carries a single-use state (10 minutes) bound to the calling admin; Microsoft sends the browser back to /api/v1/connect/microsoft/callback.',
        response: { 200: z.object({ redirectUrl: z.string(), expiresAt: z.string() }) },
      },
    },
    async (request) =>
      deps.commands.run(
        'integrations.connectStart',
        { redirectUri: callbackUrl(deps, request) },
        actorOf(request),
      ),
  );

  app.get(
    '/connect/microsoft/callback',
    {
      // Public on purpose: the browser comes back from Microsoft without the session cookie
      // (SameSite=Strict is not sent on a navigation that started on another site). The
      // single-use, expiring state is the credential; it names the admin who started it.
      config: { access: 'public' },
      schema: {
        tags,
        summary: "Microsoft's admin-consent answer: adds the integration, then redirects to the web app",
        querystring: z.object({
          state: z.string().max(200).optional(),
          tenant: z.string().max(200).optional(),
          admin_consent: z.string().max(20).optional(),
          error: z.string().max(200).optional(),
          error_description: z.string().max(2000).optional(),
        }),
      },
    },
    async (request, reply) => {
      const q = request.query;
      const back = (params: Record<string, string>) =>
        reply.redirect(`/integrations?${new URLSearchParams(params).toString()}`, 302);
      if (!q.state) return back({ error: 'the answer carries no state: start Connect with Microsoft again' });
      try {
        const result = await deps.commands.run(
          'integrations.connectComplete',
          {
            state: q.state,
            tenant: q.tenant,
            adminConsent: q.admin_consent,
            error: q.error,
            errorDescription: q.error_description,
          },
          // Who runs it is decided by the state (the command checks that admin); the caller is anonymous.
          { userId: '', username: 'connect-callback', role: 'viewer' },
        );
        return back({ added: result.integration.id });
      } catch (err) {
        const e = err as { status?: number; message?: string };
        if (typeof e.status === 'number' && e.status < 500) return back({ error: String(e.message) });
        throw err;
      }
    },
  );
}
