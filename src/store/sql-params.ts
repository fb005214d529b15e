import type { SqlDialect } from './dialect.ts';

/**
 * Named parameters in SQL (rules, the query console): `:name` becomes the dialect's placeholder and its value is
 * bound, never spliced into the text. A `string_list` parameter expands to one placeholder
 * per element (`in (:personal_domains)` → `in (?, ?, ?)`), an empty list to `NULL` (which
 * matches nothing). String literals, quoted identifiers, comments and PostgreSQL `::` casts
 * are left alone.
 */

export type ParamValue = number | string | boolean | null | readonly string[];

export interface CompiledSql {
  text: string;
  values: unknown[];
}

export class SqlParamError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SqlParamError';
  }
}

/** The `:name` references of a SQL text, in order of appearance (repeats included). */
export function parameterNames(text: string): string[] {
  const names: string[] = [];
  scan(text, (name) => {
    names.push(name);
    return '';
  });
  return names;
}

/** Replaces every `:name` with placeholders; throws SqlParamError naming an unknown parameter. */
export function compileParams(
  text: string,
  params: Readonly<Record<string, ParamValue>>,
  dialect: SqlDialect,
): CompiledSql {
  const values: unknown[] = [];
  const out = scan(text, (name) => {
    if (!Object.hasOwn(params, name)) throw new SqlParamError(`unknown parameter :${name}`);
    const value = params[name];
    if (Array.isArray(value)) {
      if (value.length === 0) return 'NULL';
      const start = values.length + 1;
      values.push(...value);
      return dialect.placeholders(start, value.length);
    }
    values.push(typeof value === 'boolean' ? dialect.encodeBoolean(value) : value);
    return dialect.placeholder(values.length);
  });
  return { text: out, values };
}

const NAME = /[A-Za-z_][A-Za-z0-9_]*/y;

function scan(text: string, replace: (name: string) => string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    const next = text[i + 1];
    if (c === "'" || c === '"') {
      const end = closingQuote(text, i, c);
      out += text.slice(i, end);
      i = end;
    } else if (c === '-' && next === '-') {
      const end = text.indexOf('\n', i);
      const stop = end < 0 ? text.length : end;
      out += text.slice(i, stop);
      i = stop;
    } else if (c === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end < 0 ? text.length : end + 2;
      out += text.slice(i, stop);
      i = stop;
    } else if (c === ':' && next === ':') {
      out += '::';
      i += 2;
    } else if (c === ':') {
      NAME.lastIndex = i + 1;
      const m = NAME.exec(text);
      if (m) {
        out += replace(m[0]);
        i += 1 + m[0].length;
      } else {
        out += c;
        i += 1;
      }
    } else {
      out += c;
      i += 1;
    }
  }
  return out;
}

/** Index just past the quote closing the one at `start` (a doubled quote is an escape). */
function closingQuote(text: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < text.length) {
    if (text[i] === quote) {
      if (text[i + 1] === quote) i += 2;
      else return i + 1;
    } else i += 1;
  }
  return text.length;
}
