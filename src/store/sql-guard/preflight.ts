import type { Dialect } from '../dialect.ts';
import { refused, sqlError } from './errors.ts';
import { lexSql, statementsOf, type Token } from './lexer.ts';

/** Longer SQL texts are refused before the database parses them. */
export const MAX_SQL_LENGTH = 100_000;

/** Words a read-only query may start with. */
const QUERY_STARTS: Record<Dialect, ReadonlySet<string>> = {
  sqlite: new Set(['SELECT', 'WITH', 'VALUES']),
  postgres: new Set(['SELECT', 'WITH', 'VALUES', 'TABLE']),
};

/**
 * The text-level checks, before the database sees the query: one statement, starting
 * like a query (SELECT, WITH, VALUES; PostgreSQL also TABLE and `(`), without INTO.
 * Returns the text without a trailing `;`. These give the clearest messages; the
 * database-level checks (sqlite-guard.ts, postgres-guard.ts) do not rely on them.
 */
export function preflight(sqlText: string, dialect: Dialect): string {
  if (sqlText.length > MAX_SQL_LENGTH)
    throw refused(`the query is longer than ${MAX_SQL_LENGTH.toLocaleString('en')} characters`);
  const lexed = lexSql(sqlText, dialect);
  if (lexed.unterminated) throw sqlError('a string, quoted name or comment is not closed');
  const statements = statementsOf(lexed);
  if (statements.length === 0) throw refused('empty query');
  if (statements.length > 1)
    throw refused('one statement at a time: the text holds more than one (separated by ;)');
  const [statement] = statements;
  const first = statement[0];
  const word = first.kind === 'word' ? first.text.toUpperCase() : first.text;
  const startsLikeQuery =
    QUERY_STARTS[dialect].has(word) || (dialect === 'postgres' && first.kind === 'punct' && word === '(');
  if (!startsLikeQuery)
    throw refused(
      `only queries run here (SELECT, WITH … SELECT, VALUES); this statement starts with ${word}`,
    );
  if (statement.some(isWord('INTO')))
    throw refused('SELECT … INTO writes a table; the console only reads (remove INTO …)');
  const last = statement[statement.length - 1];
  return sqlText.slice(0, last.start + last.text.length);
}

const isWord = (word: string) => (t: Token) => t.kind === 'word' && t.text.toUpperCase() === word;
