import { type Kysely, sql } from 'kysely';
import { CONSOLE_TABLES, consoleReadable, secretColumnsOf } from '../tables/secret-columns.ts';
import { consoleRoleName } from './console-role-name.ts';

export { consoleRoleName } from './console-role-name.ts';

/**
 * The role the PostgreSQL query console runs as (SET LOCAL ROLE in its read-only
 * transaction): NOLOGIN, USAGE on the store's schema, SELECT on the console's tables only
 * (CONSOLE_TABLES; column grants without the secret columns where a table holds some),
 * nothing else. Kept up to date at every store open, after the migrations, so a table a
 * migration adds is unreadable until it is listed. The guard refuses the same things
 * first; the role is what the server itself enforces.
 *
 * The user drivewarden connects as needs no superuser: it owns the tables (it ran the
 * migrations), so it can grant SELECT on them; to create the role it needs CREATEROLE,
 * or a DBA creates it once: `CREATE ROLE <name> NOLOGIN; GRANT <name> TO <user>;`
 * (the name: consoleRoleName, printed by the console's error when it is missing).
 */

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * Creates the role when missing and sets its grants. Returns a message when it could not
 * (the console then refuses to run, naming what the DBA must do); never throws for that.
 */
// biome-ignore lint/suspicious/noExplicitAny: any store's Kysely (no table of it is typed here)
export async function ensureConsoleRole(db: Kysely<any>): Promise<string | undefined> {
  const { rows } = await sql<{ database: string; schema: string }>`
    select current_database() as database, current_schema() as schema`.execute(db);
  const { database, schema } = rows[0];
  const role = consoleRoleName(database, schema);
  try {
    const exists = await sql`select 1 from pg_roles where rolname = ${role}`.execute(db);
    if (exists.rows.length === 0)
      await sql
        .raw(`create role ${ident(role)} nologin`)
        .execute(db)
        .catch(ignoreDuplicate);
    const member = await sql<{
      m: boolean;
    }>`select pg_has_role(current_user, ${role}, 'MEMBER') as m`.execute(db);
    if (!member.rows[0]?.m) await sql.raw(`grant ${ident(role)} to current_user`).execute(db);
    await db.transaction().execute(async (trx) => {
      // Two processes opening the store at once would race on the same grants.
      await sql`select pg_advisory_xact_lock(hashtext(${`drivewarden console role ${role}`}))`.execute(trx);
      for (const statement of await grantStatements(trx, role, schema)) await sql.raw(statement).execute(trx);
    });
    return undefined;
  } catch (err) {
    return `the query console's role ${role} could not be set up (${(err as Error).message}): a DBA runs \`CREATE ROLE ${role} NOLOGIN; GRANT ${role} TO <drivewarden's user>;\` or grants that user CREATEROLE`;
  }
}

// biome-ignore lint/suspicious/noExplicitAny: as above
async function grantStatements(db: Kysely<any>, role: string, schema: string): Promise<string[]> {
  const { rows } = await sql<{ table_name: string; column_name: string }>`
    select c.relname as table_name, a.attname as column_name
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
    where n.nspname = ${schema} and c.relkind in ('r', 'v', 'm', 'p')
    order by c.relname, a.attnum`.execute(db);
  const columns = new Map<string, string[]>();
  for (const r of rows) columns.set(r.table_name, [...(columns.get(r.table_name) ?? []), r.column_name]);
  const [r, s] = [ident(role), ident(schema)];
  const statements = [
    `revoke all on all tables in schema ${s} from ${r}`,
    `revoke all on all sequences in schema ${s} from ${r}`,
    `grant usage on schema ${s} to ${r}`,
  ];
  for (const table of CONSOLE_TABLES) {
    const all = columns.get(table);
    if (!all || !consoleReadable(table)) continue;
    const withheld = secretColumnsOf(table);
    const target = `${s}.${ident(table)}`;
    if (withheld.length === 0) statements.push(`grant select on ${target} to ${r}`);
    else {
      const readable = all.filter((c) => !withheld.includes(c)).map(ident);
      if (readable.length > 0) statements.push(`grant select (${readable.join(', ')}) on ${target} to ${r}`);
    }
  }
  return statements;
}

function ignoreDuplicate(err: unknown): void {
  // 42710 (or a unique violation in the catalog): another process created it meanwhile.
  const code = (err as { code?: string }).code;
  if (code !== '42710' && code !== '23505') throw err;
}

/** Drops the schema's console role (with the schema; its grants went with the tables). */
export async function dropConsoleRole(
  query: (text: string) => Promise<unknown>,
  database: string,
  schema: string,
): Promise<void> {
  await query(`drop role if exists ${ident(consoleRoleName(database, schema))}`);
}
