import { type AnyDb, exec, isPostgres } from './sql-v1.ts';

/**
 * 0700 — sign-in for the web app and REST API (src/auth/): local users with scrypt password
 * hashes (or an Entra ID object id for single sign-on), browser sessions and API tokens,
 * each kept only as the SHA-256 of its random token. Frozen once shipped.
 */
export async function up(db: AnyDb): Promise<void> {
  const ts = isPostgres(db) ? 'timestamptz' : 'text';
  await exec(
    db,
    `create table app_users (
      id text primary key,
      username text not null unique,
      password_hash text,
      role text not null check (role in ('admin', 'viewer')),
      external_id text unique,
      created_at ${ts} not null,
      must_change_password integer not null default 0,
      disabled integer not null default 0,
      last_sign_in_at ${ts}
    )`,
  );
  await exec(
    db,
    `create table app_sessions (
      token_hash text primary key,
      user_id text not null references app_users (id) on delete cascade,
      csrf_token text not null,
      created_at ${ts} not null,
      expires_at ${ts} not null,
      user_agent text,
      ip text
    )`,
  );
  await exec(db, 'create index app_sessions_user on app_sessions (user_id)');
  await exec(
    db,
    `create table api_tokens (
      id text primary key,
      name text not null,
      token_hash text not null unique,
      prefix text not null,
      user_id text not null references app_users (id) on delete cascade,
      role text not null check (role in ('admin', 'viewer')),
      created_at ${ts} not null,
      expires_at ${ts},
      last_used_at ${ts}
    )`,
  );
}

export async function down(db: AnyDb): Promise<void> {
  await exec(db, 'drop table api_tokens');
  await exec(db, 'drop table app_sessions');
  await exec(db, 'drop table app_users');
}
