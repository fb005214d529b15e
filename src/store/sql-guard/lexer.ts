import type { Dialect } from '../dialect.ts';

/**
 * A SQL lexer just good enough to see the shape of a statement the way the database will:
 * where strings, quoted identifiers and comments start and end (PostgreSQL: dollar quotes,
 * E'' strings, nested block comments; SQLite: `[x]` and backquoted identifiers), so that a
 * `;` or a keyword inside a literal is not mistaken for one outside. The guard uses it for
 * the checks that give the clearest messages (one statement, a SELECT, no INTO); the
 * database's own refusals (extended protocol, DECLARE CURSOR, prepared-statement readers)
 * back each of them up.
 */

export type TokenKind = 'word' | 'quoted' | 'string' | 'number' | 'param' | 'punct';

export interface Token {
  kind: TokenKind;
  /** The token as written (a quoted identifier or string with its quotes). */
  text: string;
  /** Offset of the first character in the SQL text. */
  start: number;
}

export interface LexedSql {
  tokens: Token[];
  /** A string, quoted identifier or comment runs to the end of the text. */
  unterminated: boolean;
}

const WORD = /[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*/y;
const NUMBER = /(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/y;
const DOLLAR_TAG = /\$([A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/y;
const PARAM = /(?:\$\d+|\?\d*|[:@$][A-Za-z_][A-Za-z0-9_]*)/y;

export function lexSql(text: string, dialect: Dialect): LexedSql {
  const tokens: Token[] = [];
  let unterminated = false;
  let i = 0;
  const at = (re: RegExp, from: number) => {
    re.lastIndex = from;
    return re.exec(text)?.[0];
  };
  while (i < text.length) {
    const c = text[i];
    const next = text[i + 1];
    if (/\s/.test(c)) {
      i += 1;
    } else if (c === '-' && next === '-') {
      const end = text.indexOf('\n', i);
      i = end < 0 ? text.length : end + 1;
    } else if (c === '/' && next === '*') {
      const end = blockCommentEnd(text, i, dialect === 'postgres');
      if (end < 0) {
        unterminated = true;
        break;
      }
      i = end;
    } else if (c === "'" || ((c === 'E' || c === 'e') && next === "'" && dialect === 'postgres')) {
      const open = c === "'" ? i : i + 1;
      const end = quotedEnd(text, open, "'", c !== "'");
      if (end < 0) {
        unterminated = true;
        break;
      }
      tokens.push({ kind: 'string', text: text.slice(i, end), start: i });
      i = end;
    } else if (c === '"' || (dialect === 'sqlite' && (c === '`' || c === '['))) {
      const end = c === '[' ? text.indexOf(']', i) + 1 : quotedEnd(text, i, c, false);
      if (end <= 0) {
        unterminated = true;
        break;
      }
      tokens.push({ kind: 'quoted', text: text.slice(i, end), start: i });
      i = end;
    } else if (c === '$' && dialect === 'postgres' && at(DOLLAR_TAG, i)) {
      const tag = at(DOLLAR_TAG, i)!;
      const end = text.indexOf(tag, i + tag.length);
      if (end < 0) {
        unterminated = true;
        break;
      }
      tokens.push({ kind: 'string', text: text.slice(i, end + tag.length), start: i });
      i = end + tag.length;
    } else if (c === ':' && next === ':') {
      tokens.push({ kind: 'punct', text: '::', start: i });
      i += 2;
    } else if (at(WORD, i)) {
      const word = at(WORD, i)!;
      tokens.push({ kind: 'word', text: word, start: i });
      i += word.length;
    } else if (at(NUMBER, i)) {
      const number = at(NUMBER, i)!;
      tokens.push({ kind: 'number', text: number, start: i });
      i += number.length;
    } else if ((c === '$' || c === '?' || c === ':' || c === '@') && at(PARAM, i)) {
      const param = at(PARAM, i)!;
      tokens.push({ kind: 'param', text: param, start: i });
      i += param.length;
    } else {
      tokens.push({ kind: 'punct', text: c, start: i });
      i += 1;
    }
  }
  return { tokens, unterminated };
}

/** Index just past the closing quote; -1 when there is none. A doubled quote is an escape; E'' strings also take backslash escapes. */
function quotedEnd(text: string, open: number, quote: string, backslashes: boolean): number {
  let i = open + 1;
  while (i < text.length) {
    const c = text[i];
    if (backslashes && c === '\\') i += 2;
    else if (c === quote) {
      if (text[i + 1] === quote) i += 2;
      else return i + 1;
    } else i += 1;
  }
  return -1;
}

/** Index just past the end of the block comment at `start`; PostgreSQL nests them. */
function blockCommentEnd(text: string, start: number, nests: boolean): number {
  let depth = 0;
  let i = start;
  while (i < text.length) {
    if (text[i] === '/' && text[i + 1] === '*' && (nests || depth === 0)) {
      depth += 1;
      i += 2;
    } else if (text[i] === '*' && text[i + 1] === '/') {
      depth -= 1;
      i += 2;
      if (depth === 0) return i;
    } else i += 1;
  }
  return -1;
}

/** The statements of a lexed text: tokens split at `;`, empty statements dropped. */
export function statementsOf(lexed: LexedSql): Token[][] {
  const out: Token[][] = [[]];
  for (const t of lexed.tokens) {
    if (t.kind === 'punct' && t.text === ';') out.push([]);
    else out[out.length - 1].push(t);
  }
  return out.filter((s) => s.length > 0);
}
