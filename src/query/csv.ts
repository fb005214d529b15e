import type { QueryResult } from './run-query.ts';

/**
 * Rows as CSV (RFC 4180): a header line, values quoted when they hold a comma, quote or line
 * break; objects and arrays as JSON; null as an empty field.
 */
export function formatCsv(result: Pick<QueryResult, 'columns' | 'rows'>): string {
  const field = (v: unknown): string => {
    const text = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  const lines = [result.columns.map(field).join(',')];
  for (const row of result.rows) lines.push(result.columns.map((c) => field(row[c])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
