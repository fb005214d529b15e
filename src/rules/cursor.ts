import { type Kysely, sql } from 'kysely';
import type { Database } from '../store/schema.ts';
import type { Store } from '../store/store.ts';

/**
 * The incremental evaluation's cursor over the change log (rule_cursor, per integration):
 * the last `changes.id` whose consequences are in the findings. It only moves in the
 * transaction that writes those findings, so a crash or a second process never skips a
 * change: at worst a change is evaluated twice, which changes nothing.
 */

export interface RuleCursor {
  changeId: number;
  /** When the last full evaluation finished. */
  fullAt: string | null;
  /** The time the last evaluation's snapshot was taken (settings changed later make a rule run whole). */
  evaluatedAt: string;
}

export async function readCursor(
  db: Kysely<Database>,
  integrationId: string,
): Promise<RuleCursor | undefined> {
  const row = await db
    .selectFrom('rule_cursor')
    .selectAll()
    .where('integration_id', '=', integrationId)
    .executeTakeFirst();
  return row
    ? { changeId: Number(row.change_id), fullAt: row.full_at, evaluatedAt: row.updated_at }
    : undefined;
}

/**
 * The highest change id below which every change is committed. SQLite has one writer at a
 * time, so ids commit in order and the snapshot's highest id is it (read in the session).
 * PostgreSQL hands out ids when rows are inserted, and transactions commit in any order: a
 * page transaction holding id 100 may commit after one holding 101. `lock table changes in
 * share mode` waits for every transaction that inserted into changes to end (and holds new
 * inserts back for the instant it takes to read the highest id), so no id at or below the
 * answer can commit later.
 */
export async function committedChangeBound(store: Store, integrationId: string): Promise<number> {
  if (store.dialect === 'sqlite') throw new Error('SQLite: read the highest id inside the read session');
  return store.db.transaction().execute(async (trx) => {
    await sql`lock table changes in share mode`.execute(trx);
    return highestChangeId(trx, integrationId);
  });
}

export async function highestChangeId(db: Kysely<Database>, integrationId: string): Promise<number> {
  const row = await db
    .selectFrom('changes')
    .select('id')
    .where('integration_id', '=', integrationId)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ? Number(row.id) : 0;
}

export class StaleEvaluationError extends Error {
  constructor(integrationId: string, mine: number, theirs: number) {
    super(
      `integration ${integrationId}: another evaluation already covered changes up to ${theirs} (this one read up to ${mine}); its results are newer, this one is dropped`,
    );
    this.name = 'StaleEvaluationError';
  }
}

/**
 * First statement of every findings write: serialises writers of one integration across
 * processes (PostgreSQL: an advisory lock; SQLite: taking the write lock at once) and refuses
 * to write results older than what another evaluation already wrote.
 */
export async function claimWrite(
  trx: Kysely<Database>,
  dialect: Store['dialect'],
  integrationId: string,
  upTo: number,
): Promise<void> {
  if (dialect === 'postgres')
    await sql`select pg_advisory_xact_lock(hashtext(${`drivewarden.rules:${integrationId}`}))`.execute(trx);
  else
    await trx
      .updateTable('rule_cursor')
      .set({ change_id: sql`change_id` })
      .where('integration_id', '=', integrationId)
      .execute();
  const current = await readCursor(trx, integrationId);
  if (current && current.changeId > upTo)
    throw new StaleEvaluationError(integrationId, upTo, current.changeId);
}

export async function writeCursor(
  trx: Kysely<Database>,
  integrationId: string,
  values: { changeId: number; evaluatedAt: string; full: boolean },
): Promise<void> {
  const set = {
    change_id: values.changeId,
    updated_at: values.evaluatedAt,
    ...(values.full ? { full_at: new Date().toISOString() } : {}),
  };
  await trx
    .insertInto('rule_cursor')
    .values({ integration_id: integrationId, full_at: null, ...set })
    .onConflict((oc) => oc.column('integration_id').doUpdateSet(set))
    .execute();
}
