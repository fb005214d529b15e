import { z } from 'zod';
import { EXAMPLE_QUERIES, exampleDefaults } from '../../../query/examples.ts';
import { formatCsv, formatJson } from '../../../query/format.ts';
import { consoleSchema } from '../../../query/schema.ts';
import { parameterNames } from '../../../store/sql-params.ts';
import { actorOf } from '../access.ts';
import type { ApiDeps } from '../deps.ts';
import { decodeCursor, listQuerySchema, pageSchema, toPage } from '../pagination.ts';
import type { ZodApp } from '../zod-app.ts';

/**
 * The query console: read-only SQL through the guard and the query process (run as a
 * command by the process that owns the store, so a long query never blocks this thread),
 * exports, the schema for completion, the examples and the saved queries.
 */

const paramValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);

const queryBody = z.object({
  sql: z.string().min(1).max(100_000).describe('One SELECT over the inventory (docs/tables.md)'),
  params: z
    .record(
      z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'parameter names are letters, digits and _'),
      paramValue,
    )
    .default({})
    .describe('Values of the `:name` parameters (`:now` defaults to the current time)'),
  limit: z
    .number()
    .int()
    .min(1)
    .max(100_000)
    .optional()
    .describe('Rows at most (default 1000, at most config query.maxRows)'),
});

const queryResult = z.object({
  columns: z.array(z.string()),
  rows: z.array(z.record(z.string(), z.unknown())).describe('One object per row, keyed by column'),
  rowCount: z.number().int(),
  truncated: z.boolean().describe('More rows existed than the limits let through'),
  truncatedBy: z.enum(['rows', 'bytes']).nullable(),
  ms: z.number().int(),
});

const namedQuery = z.object({
  name: z.string(),
  description: z.string(),
  sql: z.string(),
  params: z
    .record(z.string(), paramValue)
    .describe('`:name` parameters besides :now, with their defaults (null: none)'),
  createdAt: z.string().nullable(),
  updatedAt: z.string().nullable(),
  createdBy: z.string().nullable(),
});

function paramsOf(
  sqlText: string,
  defaults: Record<string, unknown> = {},
): Record<string, string | number | boolean | null> {
  const out: Record<string, string | number | boolean | null> = {};
  for (const name of new Set(parameterNames(sqlText)))
    if (name !== 'now') out[name] = (defaults[name] as string | number | boolean | undefined) ?? null;
  return out;
}

export async function queryRoutes(app: ZodApp, deps: ApiDeps): Promise<void> {
  app.post(
    '/query',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['query'],
        summary: 'Run read-only SQL over the inventory (guarded, within row, byte, time and memory limits)',
        description:
          "Refusals (a write, a secret column, a function not allowed) answer 400 with the guard's message " +
          '(code query_refused); database errors 400 (query_sql); the time and memory limits 422.',
        body: queryBody,
        response: { 200: queryResult },
      },
    },
    async (request) => deps.commands.run('query.run', request.body, actorOf(request)),
  );

  app.post(
    '/query/export',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['query'],
        summary: 'Run a query and download its rows as CSV (RFC 4180, header row) or JSON',
        body: queryBody.extend({ format: z.enum(['csv', 'json']) }),
      },
    },
    async (request, reply) => {
      const { format, ...query } = request.body;
      const result = await deps.commands.run('query.run', query, actorOf(request));
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      reply
        .header('content-disposition', `attachment; filename="query-${stamp}.${format}"`)
        .header('x-row-count', String(result.rowCount))
        .header('x-truncated', String(result.truncated))
        .type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8');
      return format === 'csv' ? formatCsv(result) : formatJson(result);
    },
  );

  app.get(
    '/query/schema',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['query'],
        summary:
          'Tables and views the console can read, with their columns and descriptions (for completion)',
        response: {
          200: z.object({
            tables: z.array(
              z.object({
                name: z.string(),
                kind: z.enum(['table', 'view']),
                description: z.string().nullable(),
                columns: z.array(
                  z.object({ name: z.string(), type: z.string(), description: z.string().nullable() }),
                ),
              }),
            ),
          }),
        },
      },
    },
    async () => ({ tables: await consoleSchema(deps.db, deps.dialect) }),
  );

  app.get(
    '/query/examples',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['query'],
        summary: 'The built-in example queries (docs/queries.md)',
        response: {
          200: z.object({
            items: z.array(
              z.object({
                name: z.string(),
                title: z.string(),
                description: z.string(),
                sql: z.string(),
                params: z.record(z.string(), z.object({ description: z.string(), default: z.unknown() })),
              }),
            ),
          }),
        },
      },
    },
    async () => ({
      items: EXAMPLE_QUERIES.map((e) => ({
        name: e.name,
        title: e.title,
        description: e.description,
        sql: e.sql,
        params: Object.fromEntries(
          Object.entries(e.params ?? {}).map(([name, p]) => [
            name,
            { description: p.description, default: exampleDefaults(e)[name] ?? null },
          ]),
        ),
      })),
    }),
  );

  app.get(
    '/saved-queries',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['query'],
        summary: 'Saved queries, by name',
        querystring: listQuerySchema.extend({
          sort: z.enum(['name']).optional().describe('name (the only order)'),
        }),
        response: { 200: pageSchema(namedQuery) },
      },
    },
    async (request) => {
      const { limit, cursor } = request.query;
      let q = deps.db
        .selectFrom('saved_queries')
        .selectAll()
        .orderBy('name')
        .limit(limit + 1);
      if (cursor) {
        q = q.where('name', '>', String(decodeCursor(cursor, 1)[0]));
      }
      const page = toPage(await q.execute(), limit, (r) => [r.name]);
      return {
        items: page.items.map((r) => ({
          name: r.name,
          description: r.description,
          sql: r.sql,
          params: paramsOf(r.sql),
          createdAt: r.created_at,
          updatedAt: r.updated_at,
          createdBy: r.created_by,
        })),
        nextCursor: page.nextCursor,
      };
    },
  );

  app.post(
    '/saved-queries',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['query'],
        summary: 'Save a query under a name (it must run on the current inventory first)',
        body: z.object({
          name: z.string().min(1).max(63).describe('1-63 lower-case letters, digits, - and _'),
          description: z.string().trim().min(1).max(2000).describe('What the query answers'),
          sql: z.string().min(1).max(100_000),
          replace: z.boolean().default(false).describe('Replace a saved query of that name'),
        }),
        response: { 201: namedQuery.extend({ builtIn: z.boolean() }) },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await deps.commands.run('query.save', request.body, actorOf(request))),
  );

  app.delete(
    '/saved-queries/:name',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['query'],
        summary: 'Delete a saved query (refused while an alert policy runs it)',
        params: z.object({ name: z.string().min(1).max(63) }),
        response: { 200: z.object({ name: z.string() }) },
      },
    },
    async (request) => deps.commands.run('query.delete', { name: request.params.name }, actorOf(request)),
  );
}
