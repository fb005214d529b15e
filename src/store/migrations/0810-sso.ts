import { type AnyDb, exec, isPostgres } from './sql-v1.ts';

/**
 * 0810 — single sign-on with Microsoft Entra ID (src/auth/sso.ts): sso_identities links an
 * Entra account, by its issuer and object id (`oid`), to the drivewarden user it signs in as;
 * sso_states holds the sign-ins in flight, each only as the SHA-256 of its `state`, used once
 * and expiring after ten minutes. Frozen once shipped.
 */
export async function up(db: AnyDb): Promise<void> {
  const ts = isPostgres(db) ? 'timestamptz' : 'text';
  await exec(
    db,
    `create table sso_identities (
      issuer text not null,
      subject text not null,
      user_id text not null unique references app_users (id) on delete cascade,
      tenant_id text not null,
      created_at ${ts} not null,
      last_sign_in_at ${ts},
      primary key (issuer, subject)
    )`,
  );
  await exec(
    db,
    `create table sso_states (
      state_hash text primary key,
      created_at ${ts} not null,
      expires_at ${ts} not null
    )`,
  );
  await exec(db, 'create index sso_states_expires on sso_states (expires_at)');
}

export async function down(db: AnyDb): Promise<void> {
  await exec(db, 'drop table if exists sso_states');
  await exec(db, 'drop table if exists sso_identities');
}
