import { refused } from './errors.ts';
import type { Token } from './lexer.ts';
import {
  PG_FUNCTIONS,
  PG_HELPERS,
  PG_REVEALING_WORDS,
  PG_SYNTAX_WORDS,
  PG_TYPE_WORDS,
} from './postgres-policy.ts';

/**
 * The expressions of a PostgreSQL plan (as EXPLAIN VERBOSE prints them, lexed): function
 * calls against the allow-list (lower case: functions; upper case: SQL syntax such as
 * COALESCE(…) or x = ANY (…)), casts to reg* types, CURRENT_USER and the like, and the
 * secret columns of the tables the plan scans.
 */

export interface SecretScan {
  table: string;
  alias: string;
  columns: readonly string[];
}

/** The store's schema (its dw_* helpers may be named with it). */
export interface ExpressionContext {
  schema: string;
}

const identifier = (t: Token | undefined): string | undefined =>
  t?.kind === 'word' ? t.text : t?.kind === 'quoted' ? t.text.slice(1, -1).replace(/""/g, '"') : undefined;
const isPunct = (t: Token | undefined, text: string) => t?.kind === 'punct' && t.text === text;

export function checkExpression(tokens: Token[], options: ExpressionContext): void {
  tokens.forEach((t, k) => {
    if (t.kind === 'word' && PG_REVEALING_WORDS.has(t.text))
      throw refused(`${t.text} reveals server settings and is not allowed in the console`);
    if (isPunct(t, '::')) checkCast(tokens, k);
    if (!isPunct(tokens[k + 1], '(')) return;
    const name = identifier(t);
    if (name === undefined || isTypeModifier(tokens, k)) return;
    if (t.kind === 'word' && /^[A-Z_]+$/.test(name)) {
      if (!PG_SYNTAX_WORDS.has(name)) throw refused(`${name}(…) is not allowed in the console`);
      return;
    }
    const schema = isPunct(tokens[k - 1], '.') ? identifier(tokens[k - 2]) : undefined;
    checkFunction(name, schema, options);
  });
}

export function checkFunction(name: string, schema: unknown, options: ExpressionContext): void {
  const allowed =
    schema === undefined
      ? PG_FUNCTIONS.has(name) || PG_HELPERS.has(name)
      : (schema === 'pg_catalog' && PG_FUNCTIONS.has(name)) ||
        (schema === options.schema && PG_HELPERS.has(name));
  if (!allowed)
    throw refused(
      `function ${schema === undefined ? '' : `${String(schema)}.`}${name} is not allowed in the console ` +
        '(docs/queries.md lists the allowed ones)',
    );
}

/** `::numeric(10,2)`, `::character varying(3)`: a type with its modifier, not a call. */
function isTypeModifier(tokens: Token[], k: number): boolean {
  if (tokens[k].kind !== 'word' || !PG_TYPE_WORDS.has(tokens[k].text)) return false;
  let j = k - 1;
  while (tokens[j]?.kind === 'word' && PG_TYPE_WORDS.has(tokens[j].text)) j -= 1;
  return isPunct(tokens[j], '::');
}

/** Casts to reg* types look names up in the catalog (`'pg_authid'::regclass`). */
function checkCast(tokens: Token[], k: number): void {
  let type = identifier(tokens[k + 1]);
  if (type === 'pg_catalog' && isPunct(tokens[k + 2], '.')) type = identifier(tokens[k + 3]);
  if (type?.startsWith('reg'))
    throw refused(`casts to ${type} look up the database catalog and are not allowed in the console`);
}

/** No secret column by name, no whole row (`alias.*`, a bare alias) of a table holding one. */
export function checkSecrets(tokens: Token[], scans: SecretScan[]): void {
  if (scans.length === 0) return;
  tokens.forEach((t, k) => {
    const name = identifier(t);
    if (name === undefined) return;
    for (const scan of scans) {
      if (scan.columns.includes(name))
        throw refused(
          `${scan.table}.${name} holds a secret and cannot be read (name the columns you need instead of *)`,
        );
      const qualifies = isPunct(tokens[k + 1], '.');
      if (name === scan.alias && (!qualifies || isPunct(tokens[k + 2], '*')))
        throw refused(
          `a whole row of ${scan.table} includes secrets and cannot be read (name the columns you need)`,
        );
    }
  });
}
