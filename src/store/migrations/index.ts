import type { Migration } from 'kysely';

/**
 * Every migration, in order. Names sort by their numeric prefix; each file serves both
 * dialects (sqlite and postgres). Append, never edit a migration that has shipped.
 */
export const migrations: Record<string, Migration> = {};
