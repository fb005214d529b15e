import { consoleReadable, secretColumnsOf } from '../tables/secret-columns.ts';
import { notConsoleTable, QueryError, refused, sqlError } from './errors.ts';
import { lexSql } from './lexer.ts';
import { checkExpression, checkFunction, checkSecrets, type SecretScan } from './postgres-expressions.ts';
import { PG_NODE_TYPES, PG_NON_EXPRESSION_KEYS, PG_SAMPLING_METHODS } from './postgres-policy.ts';
import { preflight } from './preflight.ts';

/**
 * The guard on PostgreSQL: the query is planned (EXPLAIN VERBOSE, FORMAT JSON; not run)
 * and its plan checked: only reading plan nodes (no ModifyTable from a writable CTE, no
 * LockRows), every relation a table or view of the store's schema (so no pg_catalog,
 * information_schema, pg_settings, pg_stat_*, other schemas), every function called in any
 * expression on an allow-list (so no pg_read_file, lo_get, current_setting, dblink, …), no
 * secret column and no whole row of a table holding one. Views and inlined SQL functions
 * are expanded in the plan, so nothing hides behind them.
 *
 * Callers run the checked prepared statement in a READ ONLY transaction with a statement
 * timeout, as the console's role, which the guard does not replace.
 */

/** Runs one statement with the extended protocol (never more than one statement). */
export type PgExecute = (text: string, values: readonly unknown[]) => Promise<Array<Record<string, unknown>>>;

export interface PostgresGuardOptions {
  /** The store's schema: the only one whose relations may be read. */
  schema: string;
  /** Allow the session's temporary tables (the rules engine's scope tables). */
  allowTempTables?: boolean;
}

interface PlanNode {
  [key: string]: unknown;
  Plans?: PlanNode[];
}

/** What the guard needs of a read-only session (postgres-session.ts). */
export interface PgGuardSession {
  execute: PgExecute;
  prepare(text: string): Promise<void>;
  explain(parameters: number): Promise<Array<Record<string, unknown>>>;
}

/**
 * Checks a query: the text becomes the session's prepared statement (postgres-prepared.ts)
 * and its plan is checked. Run that statement afterwards (session.rows), never the text
 * again. Throws QueryError.
 */
export async function checkPostgresQuery(
  session: PgGuardSession,
  sqlText: string,
  values: readonly unknown[],
  options: PostgresGuardOptions,
): Promise<void> {
  const text = preflight(sqlText, 'postgres');
  let rows: Array<Record<string, unknown>>;
  try {
    await session.prepare(text);
    rows = await session.explain(values.length);
  } catch (err) {
    throw postgresError(err);
  }
  const plan = (rows[0]?.['QUERY PLAN'] as Array<{ Plan: PlanNode }> | undefined)?.[0]?.Plan;
  if (!plan) throw sqlError('PostgreSQL returned no plan for the query');
  await checkPlan(plan, session.execute, options);
}

/** A PostgreSQL error as the console reports it (refusals for what the server refused to do). */
export function postgresError(err: unknown): QueryError {
  const { code, message } = err as { code?: string; message: string };
  // Also while planning: PostgreSQL folds constant calls then (repeat('x', 1e9)).
  if (code === '57014') return new QueryError('timeout', `stopped: ${message}`);
  if (code === '25006') return refused(`${message}; the console only reads`);
  if (code === '42501') return refused(message);
  if (code === '42601' && /multiple commands|cannot insert multiple/.test(message))
    return refused('one statement at a time: the text holds more than one');
  return sqlError(message);
}

// ---------- the plan ----------

/**
 * Nodes that hand their input rows up unchanged (their Output repeats their child's), and
 * nodes that compute their own Output from named columns (a secret used there is named).
 * A scan under an Aggregate or a join often outputs every column of its table (PostgreSQL's
 * "physical target list", cheaper than projecting) though none is used: such an Output is
 * not a read of the secret as long as it only reaches a node that names what it uses.
 */
const PASS_THROUGH = new Set([
  'Hash',
  'Sort',
  'Incremental Sort',
  'Materialize',
  'Memoize',
  'Limit',
  'Unique',
  'Gather',
  'Gather Merge',
]);
const NAMING_CONSUMERS = new Set([
  'Nested Loop',
  'Hash Join',
  'Merge Join',
  'Aggregate',
  'Group',
  'WindowAgg',
  'Result',
  'ProjectSet',
]);

async function checkPlan(root: PlanNode, execute: PgExecute, options: PostgresGuardOptions): Promise<void> {
  const secretScans: SecretScan[] = [];
  const nodes: PlanNode[] = [];
  const visit = (node: PlanNode) => {
    checkNode(node, options, secretScans);
    nodes.push(node);
    for (const child of node.Plans ?? []) visit(child);
  };
  visit(root);
  const unread =
    secretScans.length > 0 ? await wholeTableOutputs(root, secretScans, execute, options) : new Set();
  const expressions: string[] = [];
  for (const node of nodes)
    for (const [key, value] of Object.entries(node))
      if (!(key === 'Output' && unread.has(node))) collectExpressions(value, expressions, key);
  const tokens = expressions.map((e) => lexSql(e, 'postgres').tokens);
  for (const list of tokens) checkExpression(list, options);
  for (const list of tokens) checkSecrets(list, secretScans);
}

/**
 * The nodes whose Output is a secret table's physical target list (or a pass-through of
 * one) feeding a node that names the columns it uses: their Output is left out of the
 * secret check. Throws when such rows reach a node that passes columns on by position
 * (a subquery, a UNION, a CTE, the result itself).
 */
async function wholeTableOutputs(
  root: PlanNode,
  scans: SecretScan[],
  execute: PgExecute,
  options: PostgresGuardOptions,
): Promise<Set<PlanNode>> {
  const rows = await execute(
    `select c.relname as table_name, a.attname as column_name
     from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = $1 and c.relname = any($2) and a.attnum > 0 and not a.attisdropped
     order by c.relname, a.attnum`,
    [options.schema, [...new Set(scans.map((s) => s.table))]],
  );
  const columnsOf = (table: string) =>
    rows.filter((r) => r.table_name === table).map((r) => String(r.column_name));
  const isPhysical = (node: PlanNode) => {
    const table = node['Relation Name'];
    const output = node.Output;
    if (typeof table !== 'string' || !Array.isArray(output) || secretColumnsOf(table).length === 0)
      return false;
    const alias = String(node.Alias ?? table);
    const columns = columnsOf(table);
    return (
      output.length === columns.length &&
      columns.every((c, i) => output[i] === c || output[i] === `${alias}.${c}`)
    );
  };
  const unread = new Set<PlanNode>();
  const visit = (node: PlanNode, parent: PlanNode | undefined): boolean => {
    const children = node.Plans ?? [];
    const fromChildren = children.map((child) => visit(child, node));
    const inputs = children.filter(
      (c) => c['Parent Relationship'] !== 'InitPlan' && c['Parent Relationship'] !== 'SubPlan',
    );
    const whole =
      isPhysical(node) ||
      (PASS_THROUGH.has(String(node['Node Type'])) &&
        inputs.length === 1 &&
        fromChildren[children.indexOf(inputs[0])] &&
        JSON.stringify(node.Output) === JSON.stringify(inputs[0].Output));
    if (!whole) return false;
    unread.add(node);
    const consumer = parent && NAMING_CONSUMERS.has(String(parent['Node Type']));
    const subplan = node['Parent Relationship'] === 'InitPlan' || node['Parent Relationship'] === 'SubPlan';
    const passedOn = parent !== undefined && PASS_THROUGH.has(String(parent['Node Type']));
    if (subplan || !(consumer || passedOn))
      throw refused(
        `whole rows of ${scans.map((s) => s.table).join(', ')} include secrets and cannot be read ` +
          '(name the columns you need)',
      );
    return true;
  };
  visit(root, undefined);
  return unread;
}

function checkNode(node: PlanNode, options: PostgresGuardOptions, secretScans: SecretScan[]): void {
  const type = String(node['Node Type']);
  if (type === 'ModifyTable')
    throw refused(
      `the query would change the database (${String(node.Operation ?? 'a write').toLowerCase()} in a WITH clause); the console only reads`,
    );
  if (type === 'LockRows') throw refused('SELECT … FOR UPDATE/SHARE locks rows; the console only reads');
  if (!PG_NODE_TYPES.has(type))
    throw refused(`the query uses a plan step the console does not run (${type})`);
  if (node['Sampling Method'] !== undefined && !PG_SAMPLING_METHODS.has(String(node['Sampling Method'])))
    throw refused(`TABLESAMPLE ${String(node['Sampling Method'])} is not allowed`);
  if (node['Relation Name'] !== undefined) {
    const table = String(node['Relation Name']);
    const schema = String(node.Schema);
    const temporary = options.allowTempTables && /^pg_temp(_\d+)?$/.test(schema);
    if (schema !== options.schema && !temporary)
      throw refused(`${schema}.${table} is not an inventory table (only the store's schema can be read)`);
    if (!temporary && !consoleReadable(table)) throw notConsoleTable(table);
    const secret = temporary ? [] : secretColumnsOf(table);
    if (secret.length > 0) secretScans.push({ table, alias: String(node.Alias ?? table), columns: secret });
  }
  if (node['Function Name'] !== undefined) checkFunction(String(node['Function Name']), node.Schema, options);
}

/** Every string in a node that is an expression (Output, Filter, Sort Key, Function Call, …). */
function collectExpressions(value: unknown, out: string[], key = ''): void {
  if (key === 'Plans' || PG_NON_EXPRESSION_KEYS.has(key)) return;
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) collectExpressions(v, out);
  else if (value !== null && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) collectExpressions(v, out, k);
}
