import { createHash } from 'node:crypto';

/**
 * The name of the console's role (console-role.ts makes it), alone in this file: the query
 * process takes the role (postgres-session.ts) and loads no Kysely to know its name.
 */

/** One role per database and schema (role names are cluster-wide; at most 63 bytes). */
export function consoleRoleName(database: string, schema: string): string {
  const plain = `dw_console_${database}_${schema}`;
  if (/^[a-z0-9_]+$/.test(plain) && plain.length <= 63) return plain;
  const hash = createHash('sha256').update(`${database}\0${schema}`).digest('hex').slice(0, 16);
  return `dw_console_${hash}`;
}
