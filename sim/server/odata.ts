/** OData query option parsing with Graph's error answers. */
import { badRequest, directoryBadRequest, GraphHttpError } from './errors.ts';

export type Flavour = 'directory' | 'drive';
export type Query = Record<string, string | string[] | undefined>;

function err(flavour: Flavour, message: string): GraphHttpError {
  return flavour === 'directory' ? directoryBadRequest(message) : badRequest(message);
}

/** Rejects unknown or repeated system query options ($…) — Graph answers 400 for both. */
export function checkOptions(q: Query, allowed: readonly string[], flavour: Flavour): void {
  for (const [k, v] of Object.entries(q)) {
    if (Array.isArray(v))
      throw err(
        flavour,
        `Query option '${k}' was specified more than once, but it must be specified at most once.`,
      );
    if (!k.startsWith('$')) continue;
    const lower = k.toLowerCase();
    if (lower === '$skip' && !allowed.includes('$skip'))
      throw err(flavour, `'$skip' is not supported by the service.`);
    if (!allowed.includes(lower))
      throw err(
        flavour,
        [
          '$top',
          '$select',
          '$filter',
          '$expand',
          '$orderby',
          '$count',
          '$search',
          '$skiptoken',
          '$deltatoken',
          '$format',
        ].includes(lower)
          ? `Query option '${k}' is not allowed for this resource.`
          : `The query parameter '${k}' is not supported.`,
      );
  }
}

/** Case-insensitive access to an OData option ($select or $SELECT). */
export function opt(q: Query, name: string): string | undefined {
  for (const [k, v] of Object.entries(q)) if (k.toLowerCase() === name && typeof v === 'string') return v;
  return undefined;
}

export function parseTop(q: Query, max: number, flavour: Flavour): number | undefined {
  const raw = opt(q, '$top');
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw.trim()))
    throw err(
      flavour,
      `Invalid value '${raw}' for query option '$top'. The value must be a positive integer.`,
    );
  const n = Number(raw);
  if (n < 1 || n > max)
    throw err(
      flavour,
      flavour === 'directory'
        ? `Invalid page size specified: '${n}'. Must be between 1 and ${max} inclusive.`
        : `Invalid $top value '${n}': it must be between 1 and ${max}.`,
    );
  return n;
}

/** $select → list of property names (validated against `known`), or null when absent. */
export function parseSelect(
  q: Query,
  known: ReadonlySet<string>,
  typeName: string,
  flavour: Flavour,
): string[] | null {
  const raw = opt(q, '$select');
  if (raw === undefined) return null;
  const names = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 0) throw err(flavour, `Syntax error: $select must name at least one property.`);
  for (const n of names) {
    if (!/^[A-Za-z@][\w.@]*$/.test(n)) throw err(flavour, `Syntax error at position 0 in '${raw}'.`);
    if (!known.has(n) && !known.has(n.toLowerCase()))
      throw err(flavour, `Could not find a property named '${n}' on type '${typeName}'.`);
  }
  return names;
}

export function encodeToken(parts: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}

export function decodeToken<T>(token: string, flavour: Flavour, what = 'skip token'): T {
  try {
    const v = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (!v || typeof v !== 'object') throw new Error('not an object');
    return v as T;
  } catch {
    throw err(flavour, `Invalid ${what} '${token.slice(0, 40)}'.`);
  }
}

/** Builds `${base}${path}?k=v&…` keeping `$` unencoded like Graph's own links. */
export function link(base: string, path: string, params: Array<[string, string | undefined]>): string {
  const qs = params
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${encodeURIComponent(v as string).replace(/%2C/g, ',')}`)
    .join('&');
  return qs ? `${base}${path}?${qs}` : `${base}${path}`;
}

/** Tiny $filter support: clauses joined by `and`: `prop eq literal`, `prop ne literal`, `startswith(prop,'x')`. */
export type FilterClause =
  | { op: 'eq' | 'ne'; prop: string; value: string | boolean | null }
  | { op: 'startswith'; prop: string; value: string };

export function parseFilter(q: Query, props: ReadonlySet<string>, flavour: Flavour): FilterClause[] | null {
  const raw = opt(q, '$filter');
  if (raw === undefined) return null;
  const clauses: FilterClause[] = [];
  for (const part of raw.split(/\s+and\s+/i)) {
    const s = part.trim();
    let m = /^startswith\(\s*([A-Za-z]+)\s*,\s*'((?:[^']|'')*)'\s*\)$/i.exec(s);
    if (m) {
      checkProp(m[1], props, flavour);
      clauses.push({ op: 'startswith', prop: m[1], value: m[2].replace(/''/g, "'") });
      continue;
    }
    m = /^([A-Za-z]+)\s+(eq|ne)\s+(?:'((?:[^']|'')*)'|(true|false|null))$/i.exec(s);
    if (m) {
      checkProp(m[1], props, flavour);
      const value =
        m[3] !== undefined
          ? m[3].replace(/''/g, "'")
          : m[4] === 'null'
            ? null
            : m[4].toLowerCase() === 'true';
      clauses.push({ op: m[2].toLowerCase() as 'eq' | 'ne', prop: m[1], value });
      continue;
    }
    throw flavour === 'directory'
      ? new GraphHttpError(
          400,
          'BadRequest',
          `Invalid filter clause: syntax error or unsupported expression '${s}'.`,
        )
      : badRequest(`Invalid filter clause '${s}'.`);
  }
  return clauses;
}

function checkProp(p: string, props: ReadonlySet<string>, flavour: Flavour) {
  if (!props.has(p))
    throw flavour === 'directory'
      ? new GraphHttpError(
          400,
          'Request_UnsupportedQuery',
          `Unsupported or invalid query filter clause specified for property '${p}' of resource 'User'.`,
        )
      : badRequest(`Filtering on property '${p}' is not supported.`);
}

export function matchFilter(clauses: FilterClause[] | null, get: (prop: string) => unknown): boolean {
  if (!clauses) return true;
  for (const c of clauses) {
    const v = get(c.prop);
    if (c.op === 'startswith') {
      if (typeof v !== 'string' || !v.toLowerCase().startsWith(c.value.toLowerCase())) return false;
    } else {
      const eq =
        typeof v === 'string' && typeof c.value === 'string'
          ? v.toLowerCase() === c.value.toLowerCase()
          : v === c.value;
      if (c.op === 'eq' ? !eq : eq) return false;
    }
  }
  return true;
}
