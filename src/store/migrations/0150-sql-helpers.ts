import { type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * The SQL helper functions rules use (see ../dialect.ts for what each returns) as
 * PostgreSQL functions in the store's schema. SQLite has none to create: the connection
 * factory registers the same names on every connection (../connection.ts).
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
export async function up(db: Kysely<any>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  // A text argument (a literal, a text column) is read as JSON.
  await sql`
    create function dw_json_text(doc jsonb, path text) returns text
    language sql immutable parallel safe
    as $$ select doc #>> string_to_array(path, '.') $$`.execute(db);
  await sql`
    create function dw_json_text(doc text, path text) returns text
    language sql immutable parallel safe
    as $$ select doc::jsonb #>> string_to_array(path, '.') $$`.execute(db);
  await sql`
    create function dw_now() returns timestamptz
    language sql stable parallel safe
    as $$ select now() $$`.execute(db);
  await sql`
    create function dw_days_between(from_time timestamptz, to_time timestamptz) returns double precision
    language sql immutable parallel safe
    as $$ select (extract(epoch from (to_time - from_time)) / 86400)::double precision $$`.execute(db);
  await sql`
    create function dw_email_domain(address text) returns text
    language sql immutable parallel safe
    as $$ select nullif(lower(substring(address from '@([^@]*)$')), '') $$`.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  await sql`drop function if exists dw_json_text(jsonb, text)`.execute(db);
  await sql`drop function if exists dw_json_text(text, text)`.execute(db);
  await sql`drop function if exists dw_now()`.execute(db);
  await sql`drop function if exists dw_days_between(timestamptz, timestamptz)`.execute(db);
  await sql`drop function if exists dw_email_domain(text)`.execute(db);
}
