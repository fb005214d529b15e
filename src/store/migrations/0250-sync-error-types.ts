import { type Kysely, sql } from 'kysely';

/**
 * 0250 — sync_errors.resource_type names one thing one way: the resource type (ErrorSubject in
 * src/resources/types.ts). Before, an error of a whole type was stored under a plural or
 * other label and an error of one object under the resource type; rows written before are
 * renamed. Frozen once shipped: the renames are its own copy.
 */
const RENAMED: ReadonlyArray<readonly [string, string]> = [
  ['users', 'user'],
  ['mfa', 'user_mfa'],
  ['groups', 'group'],
  ['group_members', 'group_member'],
  ['drives', 'drive'],
  ['items', 'drive_item'],
  ['permissions', 'permission'],
];

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the untyped database
export async function up(db: Kysely<any>): Promise<void> {
  for (const [from, to] of RENAMED) {
    await sql`update sync_errors set resource_type = ${to} where resource_type = ${from}`.execute(db);
  }
}
