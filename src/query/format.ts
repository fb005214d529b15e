/**
 * Rows as the CLI prints them: an aligned text table, JSON (an array of objects) or CSV
 * (RFC 4180). Any command that prints rows (query, findings list, …) uses these, so every
 * listing takes the same `--format table|json|csv`.
 */

export const OUTPUT_FORMATS = ['table', 'json', 'csv'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export interface Rows {
  columns: readonly string[];
  rows: ReadonlyArray<Record<string, unknown>>;
}

/** The `--format` value, checked. */
export function parseOutputFormat(value: string): OutputFormat {
  if ((OUTPUT_FORMATS as readonly string[]).includes(value)) return value as OutputFormat;
  throw new Error(`--format must be one of ${OUTPUT_FORMATS.join(', ')}, got "${value}"`);
}

export function formatRows(result: Rows & { truncated?: boolean }, format: OutputFormat): string {
  switch (format) {
    case 'table':
      return formatTable(result);
    case 'json':
      return formatJson(result);
    case 'csv':
      return formatCsv(result);
  }
}

/** A value as plain JSON data: binary as `\x` + hex (PostgreSQL's notation), bigint as a number or text. */
function plain(value: unknown): unknown {
  if (value instanceof Uint8Array) return `\\x${Buffer.from(value).toString('hex')}`;
  if (typeof value === 'bigint')
    return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  return value;
}

/** A value as one line of text: JSON for objects, '' for null. */
function text(value: unknown): string {
  const v = plain(value);
  if (v === null || v === undefined) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** Control characters (newlines, escape sequences from a file name) shown as escapes, never sent to the terminal. */
function printable(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: these are what it replaces
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => {
    const escapes: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
    return escapes[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}

const MAX_CELL = 60;

/** An aligned text table (cells cut at 60 characters) with a row count line. */
export function formatTable(result: Rows & { truncated?: boolean }): string {
  const cells = result.rows.map((row) => result.columns.map((c) => printable(text(row[c]))));
  const header = result.columns.map(printable);
  const widths = header.map((h, i) =>
    Math.min(MAX_CELL, Math.max(h.length, ...cells.map((r) => r[i].length))),
  );
  const line = (values: string[]) =>
    values
      .map((v, i) => (v.length > widths[i] ? `${v.slice(0, widths[i] - 1)}…` : v.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const n = result.rows.length;
  return [
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...cells.map(line),
    `(${n} row${n === 1 ? '' : 's'}${result.truncated ? ', truncated' : ''})`,
  ].join('\n');
}

/** A JSON array of objects, one per row, keys in column order. */
export function formatJson(result: Rows): string {
  return JSON.stringify(
    result.rows.map((row) => Object.fromEntries(result.columns.map((c) => [c, plain(row[c]) ?? null]))),
  );
}

/**
 * RFC 4180: a header line, CRLF line ends, a field quoted when it holds a comma, a quote,
 * CR or LF, quotes doubled. Values are written as they are (a spreadsheet may read a
 * leading `=` as a formula: open untrusted exports as text).
 */
export function formatCsv(result: Rows): string {
  const field = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const lines = [result.columns.map(field).join(',')];
  for (const row of result.rows) lines.push(result.columns.map((c) => field(text(row[c]))).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
