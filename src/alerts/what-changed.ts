import { resourceByType } from '../resources/index.ts';
import { decodeValue } from '../store/codec.ts';

const MAX_FIELDS = 5;
const MAX_VALUE = 60;

/** A `changes` JSON column (text on SQLite, parsed jsonb on PostgreSQL). */
export function jsonColumn<T>(value: unknown): T | null {
  return (decodeValue('json', value) as T | null) ?? null;
}

/** Values of a changes row's before/after, decoded by their column kinds (SQLite keeps 0/1 in `before`). */
export function decodeChangeValues(
  resourceType: string,
  values: Record<string, unknown> | null,
): Record<string, unknown> {
  if (!values) return {};
  let columns: Record<string, { kind: string }> = {};
  try {
    columns = resourceByType(resourceType).columns;
  } catch {
    // an unknown type keeps its values as they are
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values))
    out[k] = columns[k] ? decodeValue(columns[k].kind as never, v) : v;
  return out;
}

function show(value: unknown): string {
  if (value === null || value === undefined) return '—';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > MAX_VALUE ? `${text.slice(0, MAX_VALUE - 1)}…` : text;
}

/**
 * What changed, in one line: "link_scope: organization → anonymous; roles: ["read"] → ["write"]"
 * for a modification, "added: link_scope anonymous, …" for an addition, "removed" for a removal.
 */
export function describeChange(
  changeType: string,
  fields: string[],
  before: Record<string, unknown>,
  after: Record<string, unknown>,
): string {
  if (changeType === 'removed') return 'removed';
  const shown = fields.slice(0, MAX_FIELDS);
  const more = fields.length - shown.length;
  const parts =
    changeType === 'added'
      ? shown.map((f) => `${f} ${show(after[f])}`)
      : shown.map((f) => `${f}: ${show(before[f])} → ${show(after[f])}`);
  const text = parts.join(changeType === 'added' ? ', ' : '; ');
  return `${changeType === 'added' ? 'added: ' : ''}${text}${more > 0 ? ` (+${more} more)` : ''}`;
}
