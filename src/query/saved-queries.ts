import { parameterNames } from '../store/sql-params.ts';
import type { Store } from '../store/store.ts';
import { EXAMPLE_QUERIES, exampleDefaults, exampleQuery } from './examples.ts';
import type { QueryParams } from './params.ts';
import {
  QueryError,
  type QueryLimits,
  type QueryResult,
  queryTargetOf,
  runReadOnlyQuery,
} from './run-query.ts';

/**
 * Saved queries: SQL kept under a name (`drivewarden query save`), listed with the built-in
 * examples and run by name. A query is saved only after it ran on the current inventory,
 * so a saved query is one the guard accepts and the database understands.
 */

export const QUERY_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export interface NamedQuery {
  name: string;
  description: string;
  sql: string;
  /** True for the built-in examples (src/query/examples.ts), which cannot be changed. */
  builtIn: boolean;
  /** `:name` parameters the query takes (besides :now), with their defaults when it has some. */
  params: Record<string, string | number | boolean | null>;
  createdAt: string | null;
  updatedAt: string | null;
  createdBy: string | null;
}

export interface SaveInput {
  name: string;
  description: string;
  sql: string;
  createdBy?: string | null;
  /** Replace a saved query of that name (else saving over it is refused). */
  replace?: boolean;
}

export class SavedQueries {
  constructor(
    private readonly store: Store,
    private readonly options: { limits?: Partial<QueryLimits>; pgRole?: string } = {},
  ) {}

  /** The built-in examples first, then the saved queries by name. */
  async list(): Promise<NamedQuery[]> {
    const rows = await this.store.db.selectFrom('saved_queries').selectAll().orderBy('name').execute();
    return [
      ...EXAMPLE_QUERIES.map((e) => ({
        name: e.name,
        description: e.title,
        sql: e.sql,
        builtIn: true,
        params: paramsOf(e.sql, exampleDefaults(e)),
        createdAt: null,
        updatedAt: null,
        createdBy: null,
      })),
      ...rows.map((r) => ({
        name: r.name,
        description: r.description,
        sql: r.sql,
        builtIn: false,
        params: paramsOf(r.sql, {}),
        createdAt: r.created_at,
        updatedAt: r.updated_at,
        createdBy: r.created_by,
      })),
    ];
  }

  /** The query of that name; throws naming the ones there are when there is none. */
  async get(name: string): Promise<NamedQuery> {
    const all = await this.list();
    const found = all.find((q) => q.name === name);
    if (!found)
      throw new QueryError(
        'refused',
        `no query named "${name}" (there are: ${all.map((q) => q.name).join(', ')})`,
      );
    return found;
  }

  /** Runs a saved query or an example by name; `params` override its defaults. */
  async run(name: string, params: QueryParams = {}, limit?: number): Promise<QueryResult> {
    const query = await this.get(name);
    return runReadOnlyQuery(this.target(), query.sql, {
      params: { ...withoutNulls(query.params), ...params },
      limit,
      limits: this.options.limits,
    });
  }

  /** Saves after running the query once (parameters bound to NULL); throws QueryError saying why not. */
  async save(input: SaveInput): Promise<NamedQuery> {
    const name = input.name.trim();
    if (!QUERY_NAME.test(name))
      throw new QueryError(
        'refused',
        `a query name is 1-63 lower-case letters, digits, - and _ (starting with a letter or digit), got "${input.name}"`,
      );
    if (exampleQuery(name))
      throw new QueryError('refused', `"${name}" is a built-in example; choose another name`);
    const description = input.description.trim();
    if (!description)
      throw new QueryError('refused', 'a saved query needs a --description of what it answers');
    const sql = input.sql.trim();
    const nulls = Object.fromEntries(
      [...new Set(parameterNames(sql))].filter((n) => n !== 'now').map((n) => [n, null]),
    );
    try {
      await runReadOnlyQuery(this.target(), sql, { params: nulls, limit: 1, limits: this.options.limits });
    } catch (err) {
      if (err instanceof QueryError)
        throw new QueryError(
          err.kind,
          `not saved: the query does not run on the current inventory: ${err.message}`,
        );
      throw err;
    }
    const existing = await this.store.db
      .selectFrom('saved_queries')
      .select('created_at')
      .where('name', '=', name)
      .executeTakeFirst();
    if (existing && !input.replace)
      throw new QueryError('refused', `a query named "${name}" is already saved (--replace to change it)`);
    const now = new Date().toISOString();
    if (existing)
      await this.store.db
        .updateTable('saved_queries')
        .set({ description, sql, updated_at: now })
        .where('name', '=', name)
        .execute();
    else
      await this.store.db
        .insertInto('saved_queries')
        .values({
          name,
          description,
          sql,
          created_at: now,
          updated_at: now,
          created_by: input.createdBy ?? null,
        })
        .execute();
    return this.get(name);
  }

  /** Deletes a saved query (examples cannot be deleted). */
  async delete(name: string): Promise<void> {
    if (exampleQuery(name))
      throw new QueryError('refused', `"${name}" is a built-in example and cannot be deleted`);
    const result = await this.store.db
      .deleteFrom('saved_queries')
      .where('name', '=', name)
      .executeTakeFirst();
    if (Number(result.numDeletedRows) === 0)
      throw new QueryError('refused', `no saved query named "${name}"`);
  }

  private target() {
    return queryTargetOf(this.store, this.options.pgRole);
  }
}

function paramsOf(sql: string, defaults: Record<string, unknown>): NamedQuery['params'] {
  const out: NamedQuery['params'] = {};
  for (const name of new Set(parameterNames(sql)))
    if (name !== 'now') out[name] = (defaults[name] as NamedQuery['params'][string]) ?? null;
  return out;
}

function withoutNulls(params: NamedQuery['params']): QueryParams {
  return Object.fromEntries(Object.entries(params).filter(([, v]) => v !== null)) as QueryParams;
}
