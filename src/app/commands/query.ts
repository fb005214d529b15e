import { z } from 'zod';
import { formatJson } from '../../query/format.ts';
import { QueryError, queryTargetOf, runReadOnlyQuery } from '../../query/run-query.ts';
import { SavedQueries } from '../../query/saved-queries.ts';
import type { AppContext } from '../context.ts';
import { CommandError, defineCommand } from './types.ts';

/**
 * Commands of the query console (server/api/routes/query.ts). Running a query is a command
 * although it changes nothing: the query process is forked by the process that owns the
 * store (the main thread of `serve`), so a long query never blocks the HTTP server's thread.
 * It is read-only by construction (the guard), so viewers may run it.
 */

const STATUS_OF: Record<QueryError['kind'], 400 | 422 | 503> = {
  refused: 400,
  sql: 400,
  timeout: 422,
  memory: 422,
  failed: 503,
};

/** A query's failure as a command error: its kind as the code, the guard's or database's message. */
export function queryFailure(err: unknown): never {
  if (err instanceof QueryError)
    throw new CommandError(`query_${err.kind}`, err.message, STATUS_OF[err.kind]);
  throw err;
}

const paramsSchema = z
  .record(
    z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/),
    z.union([z.string(), z.number(), z.boolean(), z.null()]),
  )
  .default({});

function savedQueries(app: AppContext): SavedQueries {
  return new SavedQueries(app.store, { limits: app.config.query, pgRole: app.config.query.pgRole });
}

/** Rows as plain JSON (binary as \x-hex, big integers as numbers or text), as the JSON export writes them. */
function plainRows(columns: string[], rows: Array<Record<string, unknown>>): Array<Record<string, unknown>> {
  return JSON.parse(formatJson({ columns, rows })) as Array<Record<string, unknown>>;
}

export const queryCommands = {
  'query.run': defineCommand({
    role: 'viewer',
    input: z.object({
      sql: z.string().min(1),
      params: paramsSchema,
      limit: z.number().int().positive().optional(),
    }),
    async run(ctx, input) {
      const { app } = ctx;
      const limit = Math.min(
        input.limit ?? Math.min(1000, app.config.query.maxRows),
        app.config.query.maxRows,
      );
      const started = performance.now();
      const result = await runReadOnlyQuery(queryTargetOf(app.store, app.config.query.pgRole), input.sql, {
        params: Object.fromEntries(Object.entries(input.params).filter(([, v]) => v !== null)) as Record<
          string,
          string | number | boolean
        >,
        limit,
        limits: app.config.query,
      }).catch(queryFailure);
      return {
        columns: result.columns,
        rows: plainRows(result.columns, result.rows),
        rowCount: result.rows.length,
        truncated: result.truncated,
        truncatedBy: result.truncatedBy,
        ms: Math.round(performance.now() - started),
      };
    },
  }),

  'query.save': defineCommand({
    role: 'admin',
    input: z.object({
      name: z.string().min(1),
      description: z.string(),
      sql: z.string().min(1),
      replace: z.boolean().default(false),
    }),
    async run(ctx, input) {
      const saved = await savedQueries(ctx.app)
        .save({ ...input, createdBy: ctx.actor.username })
        .catch(queryFailure);
      ctx.hooks.changed();
      return saved;
    },
  }),

  'query.delete': defineCommand({
    role: 'admin',
    input: z.object({ name: z.string().min(1) }),
    async run(ctx, input) {
      const users = await policiesUsing(ctx.app, input.name);
      if (users.length)
        throw new CommandError(
          'conflict',
          `saved query "${input.name}" is used by the alert polic${users.length === 1 ? 'y' : 'ies'} ${users.join(', ')}: remove ${users.length === 1 ? 'it' : 'them'} first`,
          409,
        );
      await savedQueries(ctx.app)
        .delete(input.name)
        .catch((err) => {
          if (err instanceof QueryError && err.message.startsWith('no saved query'))
            throw new CommandError('not_found', err.message, 404);
          return queryFailure(err);
        });
      return { name: input.name };
    },
  }),
};

/** Names of the query alert policies that run this saved query. */
async function policiesUsing(app: AppContext, name: string): Promise<string[]> {
  const rows = await app.store.db
    .selectFrom('alert_policies')
    .select(['name', 'filter'])
    .where('kind', '=', 'query' as never)
    .execute();
  return rows
    .filter((r) => {
      const filter = (typeof r.filter === 'string' ? JSON.parse(r.filter) : r.filter) as { query?: string };
      return filter?.query === name;
    })
    .map((r) => r.name);
}
