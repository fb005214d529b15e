/**
 * Conditions of change policies on the resource's new state, e.g.
 * `is_external = true and link_scope in (anonymous, users)` or
 * `recipient_domain not in (contoso.com, contoso.net)`.
 *
 * Grammar: `term (and term)*`; a term is `field op value` (op: = != < <= > >=),
 * `field [not] in (v, …)` or `field is [not] null`. Values: 'quoted' or "quoted" text,
 * numbers, true/false, or bare words (domains, e-mails). Text compares case-insensitively.
 * Like SQL, a null field matches no comparison (only `is null`). On a JSON array column
 * (roles, recipients) `=` means "contains", `!=` "does not contain", `in` "contains one of".
 */

type Scalar = string | number | boolean;

export type Term =
  | { field: string; op: '=' | '!=' | '<' | '<=' | '>' | '>='; value: Scalar }
  | { field: string; op: 'in' | 'not in'; values: Scalar[] }
  | { field: string; op: 'is null' | 'is not null' };

export type Condition = Term[];

const TOKEN = /\s*(?:(\(|\)|,|!=|<=|>=|=|<|>)|'([^']*)'|"([^"]*)"|([A-Za-z0-9_.@:+\-/*]+))/y;

interface Token {
  text: string;
  quoted: boolean;
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  let pos = 0;
  while (pos < text.length) {
    if (/^\s*$/.test(text.slice(pos))) break;
    TOKEN.lastIndex = pos;
    const m = TOKEN.exec(text);
    if (!m) throw new Error(`condition: cannot read "${text.slice(pos).trim()}"`);
    const quoted = m[2] ?? m[3];
    tokens.push(
      quoted !== undefined ? { text: quoted, quoted: true } : { text: m[1] ?? m[4], quoted: false },
    );
    pos = TOKEN.lastIndex;
  }
  return tokens;
}

function scalar(t: Token): Scalar {
  if (t.quoted) return t.text;
  if (/^(true|false)$/i.test(t.text)) return t.text.toLowerCase() === 'true';
  if (/^-?\d+(\.\d+)?$/.test(t.text)) return Number(t.text);
  return t.text;
}

/** Parses a condition; the error says what was expected where. */
export function parseCondition(text: string): Condition {
  const tokens = tokenize(text);
  let i = 0;
  const peek = (): Token | undefined => tokens[i];
  const word = (w: string): boolean => {
    const t = peek();
    if (t && !t.quoted && t.text.toLowerCase() === w) {
      i++;
      return true;
    }
    return false;
  };
  const expect = (what: string): Token => {
    const t = tokens[i++];
    if (!t) throw new Error(`condition: expected ${what} at the end`);
    return t;
  };
  const terms: Term[] = [];
  do {
    const field = expect('a field name');
    if (field.quoted || !/^[a-z_][a-z0-9_]*$/.test(field.text))
      throw new Error(`condition: "${field.text}" is not a field name (lower_snake_case)`);
    if (word('is')) {
      const not = word('not');
      if (!word('null')) throw new Error(`condition: expected null after "${field.text} is"`);
      terms.push({ field: field.text, op: not ? 'is not null' : 'is null' });
      continue;
    }
    const not = word('not');
    if (word('in')) {
      if (expect('(').text !== '(') throw new Error(`condition: expected ( after "${field.text} in"`);
      const values: Scalar[] = [];
      for (;;) {
        values.push(scalar(expect('a value')));
        const sep = expect(') or ,').text;
        if (sep === ')') break;
        if (sep !== ',') throw new Error(`condition: expected , or ) in the list of ${field.text}`);
      }
      terms.push({ field: field.text, op: not ? 'not in' : 'in', values });
    } else if (not) {
      throw new Error(`condition: expected in after "${field.text} not"`);
    } else {
      const op = expect('an operator').text;
      if (!['=', '!=', '<', '<=', '>', '>='].includes(op))
        throw new Error(`condition: expected an operator after "${field.text}", got "${op}"`);
      terms.push({ field: field.text, op: op as '=', value: scalar(expect('a value')) });
    }
  } while (word('and'));
  if (i < tokens.length) throw new Error(`condition: expected "and" before "${tokens[i].text}"`);
  return terms;
}

/** The fields a condition reads. */
export function conditionFields(condition: Condition): string[] {
  return [...new Set(condition.map((t) => t.field))];
}

function same(a: unknown, b: Scalar): boolean {
  if (typeof b === 'boolean') return a === b || a === (b ? 1 : 0);
  if (typeof b === 'number') return Number(a) === b;
  return String(a).toLowerCase() === b.toLowerCase();
}

function order(a: unknown, b: Scalar): number {
  if (typeof b === 'number') return Number(a) - b;
  const x = String(a).toLowerCase();
  const y = String(b).toLowerCase();
  return x < y ? -1 : x > y ? 1 : 0;
}

function termHolds(term: Term, state: Record<string, unknown>): boolean {
  const value = state[term.field];
  if (term.op === 'is null') return value === null || value === undefined;
  if (term.op === 'is not null') return value !== null && value !== undefined;
  if (value === null || value === undefined) return false;
  const list = Array.isArray(value) ? value : null;
  switch (term.op) {
    case '=':
      return list ? list.some((v) => same(v, term.value)) : same(value, term.value);
    case '!=':
      return list ? !list.some((v) => same(v, term.value)) : !same(value, term.value);
    case 'in':
      return term.values.some((w) => (list ? list.some((v) => same(v, w)) : same(value, w)));
    case 'not in':
      return !term.values.some((w) => (list ? list.some((v) => same(v, w)) : same(value, w)));
    case '<':
      return order(value, term.value) < 0;
    case '<=':
      return order(value, term.value) <= 0;
    case '>':
      return order(value, term.value) > 0;
    case '>=':
      return order(value, term.value) >= 0;
  }
}

/** Whether every term holds for the state (decoded values: booleans, numbers, arrays). */
export function conditionHolds(condition: Condition, state: Record<string, unknown>): boolean {
  return condition.every((t) => termHolds(t, state));
}
