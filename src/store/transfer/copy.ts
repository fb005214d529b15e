import { createHash } from 'node:crypto';
import type SQLite from 'better-sqlite3';
import type pg from 'pg';
import { type PlannedTable, quoteIdent } from './plan.ts';
import { canonicalRow, canonicalValue, toPgParam } from './rows.ts';

/**
 * Copies the planned tables from an open SQLite source into a PostgreSQL target in ONE
 * target transaction: rows streamed from a SQLite cursor in multi-row inserts (never a
 * whole table in memory), sequences set past the copied ids, then every table's count and
 * a random sample of its rows compared. Any failure rolls the whole copy back, so the
 * target is left as it was and the command can simply run again.
 *
 * The caller holds a read transaction on the source, so all tables come from one snapshot.
 */

export interface TableReport {
  table: string;
  sourceRows: number;
  targetRows: number;
  /** Rows of the random sample looked up in the target and compared value by value. */
  sampled: number;
  /** sha256 (first 16 hex digits) of the sample's canonical rows, equal on both sides. */
  sampleDigest: string;
}

export interface CopyOptions {
  /** Rows per INSERT statement (capped by PostgreSQL's 65,535 parameters). */
  batchRows?: number;
  /** Rows per table compared value by value after the copy. */
  sampleRows?: number;
  /** Tables the migrations fill on a fresh database: their rows are replaced, not refused. */
  seededTables?: ReadonlySet<string>;
  /** Called after each batch. */
  onProgress?: (table: string, rowsCopied: number, rowsTotal: number) => void;
}

const MAX_PARAMS = 65_000;

export async function copyTables(
  source: SQLite.Database,
  target: pg.Client,
  plans: PlannedTable[],
  options: CopyOptions = {},
): Promise<TableReport[]> {
  await target.query('begin');
  try {
    // Two copies into the same database at once would each see it empty.
    const { rows } = await target.query<{ ok: boolean }>(
      `select pg_try_advisory_xact_lock(hashtext('drivewarden migrate')) as ok`,
    );
    if (!rows[0]?.ok) throw new Error('another `drivewarden migrate` is copying into this database now');
    await refuseNonEmpty(target, plans, options.seededTables ?? new Set());
    const reports: TableReport[] = [];
    for (const plan of plans) {
      if (options.seededTables?.has(plan.name)) await target.query(`delete from ${quoteIdent(plan.name)}`);
      const sample = await copyTable(source, target, plan, options);
      await resetSequences(target, plan);
      reports.push(await verifyTable(target, plan, sample));
    }
    await target.query('commit');
    return reports;
  } catch (err) {
    await target.query('rollback').catch(() => {});
    throw err;
  }
}

async function refuseNonEmpty(
  target: pg.Client,
  plans: PlannedTable[],
  seeded: ReadonlySet<string>,
): Promise<void> {
  const filled: string[] = [];
  for (const plan of plans) {
    if (seeded.has(plan.name)) continue;
    const { rows } = await target.query<{ any: boolean }>(
      `select exists (select 1 from ${quoteIdent(plan.name)}) as any`,
    );
    if (rows[0]?.any) filled.push(plan.name);
  }
  if (filled.length > 0)
    throw new Error(
      `the target already holds drivewarden data (${filled.slice(0, 8).join(', ')}${filled.length > 8 ? ', …' : ''}): ` +
        'migrate copies only into a database (or schema) with no data yet. If an earlier copy finished, it is ' +
        'there already; to copy again, drop and re-create the target database or schema first. Nothing was written.',
    );
}

interface Sample {
  sourceRows: number;
  /** Reservoir sample of source rows (raw SQLite values, plan column order). */
  rows: unknown[][];
}

async function copyTable(
  source: SQLite.Database,
  target: pg.Client,
  plan: PlannedTable,
  options: CopyOptions,
): Promise<Sample> {
  const table = quoteIdent(plan.name);
  const names = plan.columns.map((c) => quoteIdent(c.name));
  const total = Number(source.prepare(`select count(*) from ${table}`).pluck().get());
  const batchRows = Math.max(1, Math.min(options.batchRows ?? 1000, Math.floor(MAX_PARAMS / names.length)));
  const sampleRows = options.sampleRows ?? 100;
  const insertHead =
    `insert into ${table} (${names.join(', ')})` +
    (plan.overridingSystemValue ? ' overriding system value' : '');
  const statementFor = (rowCount: number) => {
    const tuples: string[] = [];
    for (let r = 0; r < rowCount; r++)
      tuples.push(`(${names.map((_, c) => `$${r * names.length + c + 1}`).join(', ')})`);
    return `${insertHead} values ${tuples.join(', ')}`;
  };
  const fullBatch = statementFor(batchRows);

  const sample: unknown[][] = [];
  let seen = 0;
  let params: unknown[] = [];
  let inBatch = 0;
  const flush = async () => {
    if (inBatch === 0) return;
    try {
      await target.query(inBatch === batchRows ? fullBatch : statementFor(inBatch), params);
    } catch (err) {
      throw new Error(
        `copying ${plan.name} (rows ${seen - inBatch + 1}–${seen}): ${(err as Error).message}`,
        { cause: err },
      );
    }
    options.onProgress?.(plan.name, seen, total);
    params = [];
    inBatch = 0;
  };
  const cursor = source.prepare(`select ${names.join(', ')} from ${table}`).raw(true);
  for (const row of cursor.iterate() as IterableIterator<unknown[]>) {
    seen++;
    plan.columns.forEach((column, i) => {
      params.push(toPgParam(plan.name, column, row[i] as never));
    });
    // Reservoir sampling: every row equally likely to be compared, in O(sampleRows) memory.
    if (sample.length < sampleRows) sample.push(row);
    else {
      const slot = Math.floor(Math.random() * seen);
      if (slot < sampleRows) sample[slot] = row;
    }
    if (++inBatch === batchRows) await flush();
  }
  await flush();
  return { sourceRows: seen, rows: sample };
}

async function resetSequences(target: pg.Client, plan: PlannedTable): Promise<void> {
  for (const column of plan.sequenced)
    await target.query(
      `select setval(pg_get_serial_sequence($1, $2),
         coalesce((select max(${quoteIdent(column)}) from ${quoteIdent(plan.name)}), 0) + 1, false)`,
      [quoteIdent(plan.name), column],
    );
}

async function verifyTable(target: pg.Client, plan: PlannedTable, sample: Sample): Promise<TableReport> {
  const table = quoteIdent(plan.name);
  const { rows } = await target.query<{ n: number }>(`select count(*) as n from ${table}`);
  const targetRows = Number(rows[0]?.n);
  if (targetRows !== sample.sourceRows)
    throw new Error(
      `${plan.name}: ${sample.sourceRows} rows read from SQLite but ${targetRows} in PostgreSQL`,
    );
  if (plan.primaryKey.length === 0)
    throw new Error(`${plan.name} has no primary key: its sample cannot be looked up`);

  const keyIndexes = plan.primaryKey.map((k) => plan.columns.findIndex((c) => c.name === k));
  const names = plan.columns.map((c) => quoteIdent(c.name));
  const keyOf = (row: unknown[], side: 'sqlite' | 'postgres') =>
    JSON.stringify(keyIndexes.map((i) => canonicalValue(plan.columns[i]?.kind ?? 'text', row[i], side)));
  const expected = new Map(
    sample.rows.map((r) => [keyOf(r, 'sqlite'), canonicalRow(plan.columns, r, 'sqlite')]),
  );
  const found = new Map<string, string>();
  if (sample.rows.length > 0) {
    const params: unknown[] = [];
    const tuples = sample.rows.map((r) => {
      const refs = keyIndexes.map((i) => {
        const column = plan.columns[i];
        if (!column) throw new Error(`${plan.name}: primary key column not copied`);
        params.push(toPgParam(plan.name, column, r[i] as never));
        return `$${params.length}`;
      });
      return `(${refs.join(', ')})`;
    });
    const keyList = plan.primaryKey.map(quoteIdent).join(', ');
    const result = await target.query({
      text: `select ${names.join(', ')} from ${table} where (${keyList}) in (${tuples.join(', ')})`,
      values: params,
      rowMode: 'array',
    });
    for (const row of result.rows as unknown[][])
      found.set(keyOf(row, 'postgres'), canonicalRow(plan.columns, row, 'postgres'));
  }
  for (const [key, want] of expected) {
    const got = found.get(key);
    if (got !== want)
      throw new Error(
        `${plan.name}: the row with key ${key} differs after the copy` +
          (got === undefined
            ? ' (missing in PostgreSQL)'
            : ` (SQLite ${want.slice(0, 200)} ≠ PostgreSQL ${got.slice(0, 200)})`),
      );
  }
  return {
    table: plan.name,
    sourceRows: sample.sourceRows,
    targetRows,
    sampled: expected.size,
    sampleDigest: digest([...found.values()]),
  };
}

function digest(rows: string[]): string {
  const hash = createHash('sha256');
  for (const row of rows.sort()) hash.update(row).update('\n');
  return hash.digest('hex').slice(0, 16);
}
