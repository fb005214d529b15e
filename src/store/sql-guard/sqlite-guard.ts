import type SQLite from 'better-sqlite3';
import { consoleReadable, secretColumnsOf } from '../tables/secret-columns.ts';
import { notConsoleTable, type QueryError, refused, sqlError } from './errors.ts';
import { lexSql } from './lexer.ts';
import { preflight } from './preflight.ts';
import {
  SQLITE_FUNCTIONS,
  SQLITE_OPCODES,
  SQLITE_SCRATCH_ONLY,
  SQLITE_SCRATCH_OPENERS,
  SQLITE_VIRTUAL_TABLES,
  SQLITE_WRITE_OPCODES,
} from './sqlite-policy.ts';

/**
 * The guard on SQLite: the statement is prepared (one statement, a reader), then its
 * bytecode (EXPLAIN) is checked op by op against allow-lists: which opcodes, which
 * functions, which table-valued functions; every cursor it opens on the database must be
 * a table or index of the main schema, never one of a withheld table or an index over a
 * secret column, and no Column opcode may read a secret column. Views and CTEs are
 * already expanded in the bytecode, so nothing hides behind them.
 *
 * Callers run the statement on a read-only connection too (connection.ts openSqlite
 * readonly), which the guard does not replace.
 */

export interface SqliteGuardOptions {
  /** Allow reading the connection's temp schema (the rules engine's scope tables). */
  allowTempTables?: boolean;
}

interface ExplainRow {
  addr: number;
  opcode: string;
  p1: number;
  p2: number;
  p3: number;
  p4: string | null;
  p5: number;
}

/** What a cursor number was opened on. */
type CursorSource = { scratch: true } | { scratch: false; table: string; index: string | null };

/** OpenRead's P5 flag: the root page is in register P2, not P2 itself. */
const OPFLAG_P2ISREG = 0x10;

/**
 * Checks a query; returns its prepared statement (run it on this connection) or throws
 * QueryError. `values` are its parameters (EXPLAIN needs them bound; NULLs when absent).
 */
export function checkSqliteQuery(
  db: SQLite.Database,
  sqlText: string,
  options: SqliteGuardOptions = {},
  values?: readonly unknown[],
): SQLite.Statement {
  const text = preflight(sqlText, 'sqlite');
  let stmt: SQLite.Statement;
  try {
    stmt = db.prepare(text);
  } catch (err) {
    const message = (err as Error).message;
    if (/more than one statement/.test(message))
      throw refused('one statement at a time: the text holds more than one');
    throw sqlError(message);
  }
  if (!stmt.reader) throw refused('only queries that return rows run here (SELECT, WITH … SELECT, VALUES)');
  const program = db.prepare(`EXPLAIN ${text}`).all(...(values ?? nullParameters(text))) as ExplainRow[];
  checkProgram(db, program, options);
  return stmt;
}

function checkProgram(db: SQLite.Database, program: ExplainRow[], options: SqliteGuardOptions): void {
  const schema = schemaOf(db);
  const cursors = new Map<number, CursorSource[]>();
  const opened = (cursor: number, source: CursorSource) =>
    cursors.set(cursor, [...(cursors.get(cursor) ?? []), source]);
  // Cursors first: a program jumps back and forth, so Column may come before the open it reads.
  for (const op of program) {
    if (SQLITE_SCRATCH_OPENERS.has(op.opcode)) opened(op.p1, { scratch: true });
    else if (op.opcode === 'OpenRead' || op.opcode === 'ReopenIdx')
      opened(op.p1, openedObject(op, schema, options));
  }
  const scratchOnly = (cursor: number) => (cursors.get(cursor) ?? []).every((s) => s.scratch);
  for (const op of program) {
    if (!SQLITE_OPCODES.has(op.opcode)) throw refusedOpcode(op.opcode);
    switch (op.opcode) {
      case 'Transaction':
        if (op.p2 !== 0) throw refusedOpcode('Transaction (write)');
        break;
      case 'Function':
      case 'PureFunc':
      case 'AggStep':
      case 'AggStep1':
      case 'AggInverse':
      case 'AggValue':
      case 'AggFinal':
        checkFunction(op.p4);
        break;
      case 'VOpen':
        checkVirtualTable(db, op.p4);
        break;
      case 'Column':
        checkColumn(cursors.get(op.p1) ?? [], op.p2, schema);
        break;
      default:
        if (SQLITE_SCRATCH_ONLY.has(op.opcode) && !scratchOnly(op.p1)) throw refusedOpcode(op.opcode);
    }
  }
}

/** NULL for each placeholder: `?` by position, `:name` / `@name` / `$name` by name. */
function nullParameters(text: string): unknown[] {
  const params = lexSql(text, 'sqlite').tokens.filter((t) => t.kind === 'param');
  const positional = params.filter((t) => t.text.startsWith('?')).map(() => null);
  const named = params.filter((t) => !t.text.startsWith('?')).map((t) => [t.text.slice(1), null]);
  return named.length > 0 ? [...positional, Object.fromEntries(named)] : positional;
}

function refusedOpcode(opcode: string): QueryError {
  if (SQLITE_WRITE_OPCODES.has(opcode) || opcode.startsWith('Transaction'))
    return refused(`the query would change the database (SQLite ${opcode}); the console only reads`);
  return refused(`the query uses an operation the console does not run (SQLite ${opcode})`);
}

function checkFunction(p4: string | null): void {
  // P4 reads `name(argc)`.
  const name = /^(.*)\(-?\d+\)$/.exec(p4 ?? '')?.[1] ?? p4 ?? '?';
  if (!SQLITE_FUNCTIONS.has(name.toLowerCase()))
    throw refused(`function ${name} is not allowed in the console (docs/queries.md lists the allowed ones)`);
}

// ---------- tables, indexes and secret columns ----------

interface SchemaObject {
  type: 'table' | 'index';
  name: string;
  table: string;
}

interface SchemaMap {
  byRoot: Map<number, SchemaObject>;
  /** Per table holding secrets: its columns in storage order, and whether each is secret. */
  secretTables: Map<string, { columns: string[]; secret: Set<string> }>;
  /** Indexes whose keys include a secret column (or an expression over such a table). */
  secretIndexes: Set<string>;
}

function schemaOf(db: SQLite.Database): SchemaMap {
  const rows = db
    .prepare('select type, name, tbl_name as tbl, rootpage from main.sqlite_schema where rootpage > 0')
    .all() as Array<{ type: 'table' | 'index'; name: string; tbl: string; rootpage: number }>;
  const byRoot = new Map<number, SchemaObject>([
    [1, { type: 'table', name: 'sqlite_schema', table: 'sqlite_schema' }],
  ]);
  for (const r of rows) byRoot.set(r.rootpage, { type: r.type, name: r.name, table: r.tbl });
  const secretTables: SchemaMap['secretTables'] = new Map();
  const secretIndexes = new Set<string>();
  for (const table of new Set(rows.map((r) => r.tbl))) {
    const withheld = secretColumnsOf(table);
    if (withheld.length === 0) continue;
    const info = db.pragma(`table_xinfo("${table.replace(/"/g, '""')}")`) as Array<{
      name: string;
      hidden: number;
    }>;
    const columns = info.filter((c) => c.hidden !== 2 && c.hidden !== 3).map((c) => c.name);
    // Hidden or generated columns shift storage positions: then every column counts as secret.
    const all = withheld.includes('*') || info.some((c) => c.hidden !== 0);
    secretTables.set(table, { columns, secret: new Set(all ? columns : withheld) });
    for (const index of rows.filter((r) => r.type === 'index' && r.tbl === table)) {
      const keys = db.pragma(`index_xinfo("${index.name.replace(/"/g, '""')}")`) as Array<{
        cid: number;
        name: string | null;
        key: number;
      }>;
      if (all || keys.some((k) => k.cid === -2 || (k.name !== null && withheld.includes(k.name))))
        secretIndexes.add(index.name);
    }
  }
  return { byRoot, secretTables, secretIndexes };
}

function openedObject(op: ExplainRow, schema: SchemaMap, options: SqliteGuardOptions): CursorSource {
  if (op.p5 & OPFLAG_P2ISREG) throw refusedOpcode(`${op.opcode} (root page from a register)`);
  if (op.p3 === 1 && options.allowTempTables) return { scratch: true };
  if (op.p3 !== 0) throw refused('only the inventory database can be read (not temp or attached ones)');
  const object = schema.byRoot.get(op.p2);
  if (!object) throw refused(`the query opens an unknown part of the database (page ${op.p2})`);
  if (!consoleReadable(object.table)) throw notConsoleTable(object.table);
  const withheld = schema.secretTables.get(object.table);
  if (withheld && withheld.secret.size === withheld.columns.length)
    throw refused(`table ${object.table} holds secrets and cannot be read`);
  if (object.type === 'index' && schema.secretIndexes.has(object.name))
    throw refused(`index ${object.name} covers a secret column of ${object.table} and cannot be read`);
  return { scratch: false, table: object.table, index: object.type === 'index' ? object.name : null };
}

function checkColumn(sources: CursorSource[], column: number, schema: SchemaMap): void {
  for (const source of sources) {
    if (source.scratch || source.index !== null) continue; // secret indexes are refused when opened
    const withheld = schema.secretTables.get(source.table);
    const name = withheld?.columns[column];
    if (withheld && (name === undefined || withheld.secret.has(name)))
      throw refused(
        `${source.table}.${name ?? `column ${column}`} holds a secret and cannot be read ` +
          '(name the columns you need instead of *)',
      );
  }
}

// ---------- table-valued functions ----------

const allowedVtabs = new WeakMap<SQLite.Database, Set<string>>();

/**
 * EXPLAIN names a virtual table only by its address (`vtab:…`). The allowed table-valued
 * functions are eponymous: one instance per connection, so their addresses on this
 * connection are learnt by explaining a query over each.
 */
function checkVirtualTable(db: SQLite.Database, p4: string | null): void {
  let allowed = allowedVtabs.get(db);
  if (!allowed) {
    allowed = new Set<string>();
    for (const name of SQLITE_VIRTUAL_TABLES) {
      const program = db.prepare(`EXPLAIN SELECT * FROM ${name}('[]')`).all() as ExplainRow[];
      for (const op of program) if (op.opcode === 'VOpen' && op.p4) allowed.add(op.p4);
    }
    allowedVtabs.set(db, allowed);
  }
  if (!p4 || !allowed.has(p4))
    throw refused(
      `the query reads a virtual table (pragma_…, dbstat, …); only ${SQLITE_VIRTUAL_TABLES.join(' and ')} are allowed`,
    );
}
