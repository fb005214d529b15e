import { type KeyboardEvent, type ReactNode, useId, useMemo, useRef, useState } from 'react';

/**
 * A SQL editor without a library: a textarea over a highlighted copy of its text (React
 * spans, so the text is never markup), and completion of keywords, tables and columns from
 * the query schema (Tab or Enter accepts, arrows move, Escape closes).
 */

const KEYWORDS = [
  'select',
  'from',
  'where',
  'and',
  'or',
  'not',
  'in',
  'is',
  'null',
  'like',
  'as',
  'join',
  'left',
  'inner',
  'on',
  'group',
  'by',
  'order',
  'having',
  'limit',
  'offset',
  'distinct',
  'count',
  'sum',
  'min',
  'max',
  'avg',
  'case',
  'when',
  'then',
  'else',
  'end',
  'with',
  'union',
  'all',
  'asc',
  'desc',
  'between',
  'exists',
  'coalesce',
  'true',
  'false',
  'lower',
  'upper',
  'cast',
];
const KEYWORD_SET = new Set(KEYWORDS);

const TOKEN =
  /(--[^\n]*)|('(?:[^']|'')*'?)|(\b\d+(?:\.\d+)?\b)|(:[A-Za-z_]\w*)|([A-Za-z_][\w$]*)|(\s+)|([^\s\w])/g;

export function highlight(sql: string, known: Set<string>): ReactNode[] {
  const out: ReactNode[] = [];
  let i = 0;
  for (const m of sql.matchAll(TOKEN)) {
    const [token, comment, str, num, param, word] = m;
    const cls = comment
      ? 'tok-comment'
      : str
        ? 'tok-string'
        : num
          ? 'tok-number'
          : param
            ? 'tok-param'
            : word && KEYWORD_SET.has(word.toLowerCase())
              ? 'tok-keyword'
              : word && known.has(word.toLowerCase())
                ? 'tok-name'
                : undefined;
    out.push(
      cls ? (
        <span key={i++} className={cls}>
          {token}
        </span>
      ) : (
        token
      ),
    );
  }
  // A trailing newline needs content after it to keep the overlay as tall as the textarea.
  out.push('\n');
  return out;
}

/** The `:name` parameters of a query (`:now` is bound by the server; `::` casts are not parameters). */
export function parameterNames(sql: string): string[] {
  const names = new Set<string>();
  const stripped = sql.replace(/'(?:[^']|'')*'/g, "''").replace(/--[^\n]*/g, '');
  for (const m of stripped.matchAll(/(^|[^:\w]):([A-Za-z_]\w*)/g)) if (m[2] !== 'now') names.add(m[2]);
  return [...names];
}

export interface SchemaTable {
  name: string;
  description?: string | null;
  columns: { name: string; type?: string; description?: string | null }[];
}

interface Suggestion {
  label: string;
  detail: string;
}

export function suggestionsFor(prefix: string, before: string, tables: SchemaTable[]): Suggestion[] {
  if (!prefix) return [];
  const p = prefix.toLowerCase();
  const dot = /([A-Za-z_]\w*)\.$/.exec(before.slice(0, before.length - prefix.length));
  const list: Suggestion[] = [];
  if (dot) {
    // `alias.col` or `table.col`: the columns of that table, or of every table when it is an alias.
    const table = tables.find((t) => t.name.toLowerCase() === dot[1].toLowerCase());
    for (const t of table ? [table] : tables)
      for (const c of t.columns)
        if (c.name.toLowerCase().startsWith(p)) list.push({ label: c.name, detail: `${t.name} column` });
  } else {
    for (const t of tables)
      if (t.name.toLowerCase().startsWith(p)) list.push({ label: t.name, detail: 'table' });
    for (const t of tables)
      for (const c of t.columns)
        if (c.name.toLowerCase().startsWith(p)) list.push({ label: c.name, detail: `${t.name} column` });
    for (const k of KEYWORDS) if (k.startsWith(p) && k !== p) list.push({ label: k, detail: 'keyword' });
  }
  const seen = new Set<string>();
  return list.filter((s) => !seen.has(s.label) && seen.add(s.label)).slice(0, 12);
}

export function SqlEditor(props: {
  id?: string;
  value: string;
  onChange: (sql: string) => void;
  onRun?: () => void;
  tables: SchemaTable[];
  label: string;
}) {
  const { value, onChange, tables } = props;
  const generatedId = useId();
  const id = props.id ?? generatedId;
  const listId = `${id}-completions`;
  const area = useRef<HTMLTextAreaElement>(null);
  const overlay = useRef<HTMLPreElement>(null);
  const [suggestions, setSuggestions] = useState<Suggestion[]>([]);
  const [active, setActive] = useState(0);
  const known = useMemo(
    () =>
      new Set(tables.flatMap((t) => [t.name.toLowerCase(), ...t.columns.map((c) => c.name.toLowerCase())])),
    [tables],
  );

  const update = (text: string, caret: number) => {
    onChange(text);
    const before = text.slice(0, caret);
    const prefix = /[A-Za-z_]\w*$/.exec(before)?.[0] ?? '';
    setSuggestions(suggestionsFor(prefix, before, tables));
    setActive(0);
  };

  const accept = (s: Suggestion) => {
    const el = area.current;
    if (!el) return;
    const caret = el.selectionStart;
    const before = value.slice(0, caret);
    const prefix = /[A-Za-z_]\w*$/.exec(before)?.[0] ?? '';
    const next = value.slice(0, caret - prefix.length) + s.label + value.slice(caret);
    onChange(next);
    setSuggestions([]);
    const pos = caret - prefix.length + s.label.length;
    requestAnimationFrame(() => {
      el.focus();
      el.setSelectionRange(pos, pos);
    });
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if ((event.ctrlKey || event.metaKey) && event.key === 'Enter') {
      event.preventDefault();
      setSuggestions([]);
      props.onRun?.();
      return;
    }
    if (suggestions.length === 0) return;
    if (event.key === 'ArrowDown') {
      event.preventDefault();
      setActive((a) => (a + 1) % suggestions.length);
    } else if (event.key === 'ArrowUp') {
      event.preventDefault();
      setActive((a) => (a - 1 + suggestions.length) % suggestions.length);
    } else if (event.key === 'Tab' || event.key === 'Enter') {
      event.preventDefault();
      accept(suggestions[active]);
    } else if (event.key === 'Escape') {
      event.preventDefault();
      setSuggestions([]);
    }
  };

  return (
    <div className="sql-editor">
      <label htmlFor={id}>{props.label}</label>
      <div className="sql-stack">
        <pre className="sql-highlight" aria-hidden="true" ref={overlay}>
          {highlight(value, known)}
        </pre>
        <textarea
          id={id}
          ref={area}
          value={value}
          spellCheck={false}
          autoCapitalize="off"
          autoComplete="off"
          role="combobox"
          aria-autocomplete="list"
          aria-expanded={suggestions.length > 0}
          aria-controls={listId}
          aria-activedescendant={suggestions.length ? `${listId}-${active}` : undefined}
          onChange={(e) => update(e.target.value, e.target.selectionStart)}
          onKeyDown={onKeyDown}
          onBlur={() => setTimeout(() => setSuggestions([]), 150)}
          onScroll={(e) => {
            if (overlay.current) {
              overlay.current.scrollTop = e.currentTarget.scrollTop;
              overlay.current.scrollLeft = e.currentTarget.scrollLeft;
            }
          }}
        />
      </div>
      <div
        id={listId}
        role="listbox"
        className="completions"
        aria-label="completions"
        hidden={suggestions.length === 0}
      >
        {suggestions.map((s, i) => (
          <div
            key={s.label}
            tabIndex={-1}
            id={`${listId}-${i}`}
            role="option"
            aria-selected={i === active}
            onMouseDown={(e) => {
              e.preventDefault();
              accept(s);
            }}
          >
            <span>{s.label}</span> <small className="muted">{s.detail}</small>
          </div>
        ))}
      </div>
      <small className="muted">Ctrl+Enter runs · Tab completes tables and columns</small>
    </div>
  );
}
