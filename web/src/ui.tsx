/** Small shared pieces: data hooks, tables, paging, badges, charts, form fields. */
import { type ReactNode, useCallback, useEffect, useId, useRef, useState } from 'react';
import { ApiFailure, api, type Page } from './api.ts';

export interface Loaded<T> {
  data: T | undefined;
  /** The path `data` was read from (it stays shown while another path loads). */
  dataPath: string | null;
  error: Error | undefined;
  loading: boolean;
  reload: () => void;
  setData: (update: (previous: T | undefined) => T | undefined) => void;
}

/** GETs `path` (null: nothing yet) and again whenever it changes or `reload()` is called. */
export function useApi<T>(path: string | null): Loaded<T> {
  const [loaded, setLoaded] = useState<{ data: T | undefined; path: string | null }>({
    data: undefined,
    path: null,
  });
  const [error, setError] = useState<Error | undefined>(undefined);
  const [loading, setLoading] = useState(path !== null);
  const [tick, setTick] = useState(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: tick is the reload trigger
  useEffect(() => {
    if (path === null) return;
    let live = true;
    setLoading(true);
    api.get<T>(path).then(
      (value) => {
        if (!live) return;
        setLoaded({ data: value, path });
        setError(undefined);
        setLoading(false);
      },
      (err: Error) => {
        if (!live) return;
        setError(err);
        setLoading(false);
      },
    );
    return () => {
      live = false;
    };
  }, [path, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  const setData = useCallback(
    (update: (previous: T | undefined) => T | undefined) =>
      setLoaded((previous) => ({ ...previous, data: update(previous.data) })),
    [],
  );
  return { data: loaded.data, dataPath: loaded.path, error, loading, reload, setData };
}

/**
 * A paged list: `base` is the path with its filters (`/inventory/items?exposure=public`; null: none yet);
 * next/prev walk the server's cursors (a stack of where each page shown so far starts).
 * `further()` continues the current page from its nextCursor without counting a page: a list
 * that examines a bounded number of rows per request (GET /inventory/items) can answer an
 * empty page that is not its end.
 */
export function usePaged<T>(base: string | null) {
  // The stack belongs to one filter: a new `base` starts over at page 1.
  const [stack, setStack] = useState<{ base: string | null; starts: (string | undefined)[] }>({
    base,
    starts: [undefined],
  });
  const starts = stack.base === base ? stack.starts : [undefined];
  const cursor = starts[starts.length - 1];
  const sep = base?.includes('?') ? '&' : '?';
  const path = base !== null && cursor ? `${base}${sep}cursor=${encodeURIComponent(cursor)}` : base;
  const loaded = useApi<Page<T>>(path);
  const nextCursor = loaded.data?.nextCursor;
  return {
    ...loaded,
    base,
    page: starts.length,
    /** Whether `data` is this page's (not the previous page's or filter's, shown while this one loads). */
    current: path !== null && loaded.dataPath === path,
    next: () => {
      if (nextCursor) setStack({ base, starts: [...starts, nextCursor] });
    },
    prev: () => setStack({ base, starts: starts.length > 1 ? starts.slice(0, -1) : starts }),
    further: () => {
      if (nextCursor) setStack({ base, starts: [...starts.slice(0, -1), nextCursor] });
    },
    hasNext: Boolean(nextCursor),
    hasPrev: starts.length > 1,
  };
}

export type Paged<T> = ReturnType<typeof usePaged<T>>;

/**
 * Empty pages a list follows by itself before it asks: each can cost the server its time
 * ceiling (1 s on GET /inventory/items), so a rare filter searches ~5 s, then waits for a click.
 */
export const AUTO_FURTHER_PAGES = 4;

/**
 * An empty page with a nextCursor: the server stopped looking (its time ceiling), not the list
 * ending. Said as such, never as "nothing matches": the page is continued by itself up to
 * `auto` times, then a button continues it. Renders nothing for any other page.
 */
export function UnfinishedSearch<T>({
  list,
  what,
  auto = AUTO_FURTHER_PAGES,
}: {
  list: Paged<T>;
  /** What is searched, plural ("items"). */
  what: string;
  auto?: number;
}) {
  // Pages continued by themselves since the filter was set or the button clicked.
  const [rounds, setRounds] = useState({ base: list.base, n: 0 });
  const n = rounds.base === list.base ? rounds.n : 0;
  const unfinished = list.data?.items.length === 0 && Boolean(list.data.nextCursor);
  const { further, base } = list;
  const settled = unfinished && list.current && !list.loading;
  useEffect(() => {
    if (!settled || n >= auto) return;
    setRounds({ base, n: n + 1 });
    further();
  }, [settled, n, auto, base, further]);
  if (!unfinished) return null;
  if (!settled || n < auto)
    return (
      <p className="muted" role="status">
        No matches in the {what} searched so far; searching further…
      </p>
    );
  return (
    <div className="unfinished-search" role="status">
      <p className="muted">
        No matches in the {what} searched so far. The search pauses now and then to keep the server
        responsive; the rest of the {what} are not searched yet.
      </p>
      <button
        type="button"
        onClick={() => {
          setRounds({ base, n: 0 });
          further();
        }}
      >
        Search further
      </button>
    </div>
  );
}

export function Pager(props: {
  page: number;
  hasPrev: boolean;
  hasNext: boolean;
  prev: () => void;
  next: () => void;
  label?: string;
}) {
  return (
    <nav className="pager" aria-label={props.label ?? 'pages'}>
      <button type="button" onClick={props.prev} disabled={!props.hasPrev}>
        ← Previous
      </button>
      <span aria-live="polite">Page {props.page}</span>
      <button type="button" onClick={props.next} disabled={!props.hasNext}>
        Next →
      </button>
    </nav>
  );
}

export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  const message = error instanceof Error ? error.message : String(error);
  const code = error instanceof ApiFailure ? error.code : undefined;
  return (
    <p className="error" role="alert">
      {code ? <strong>{code}: </strong> : null}
      {message}
    </p>
  );
}

export function Loading({ when = true }: { when?: boolean }) {
  return when ? <p className="muted">Loading…</p> : null;
}

/** Status of a finished action (saved, sent, …) announced to screen readers. */
export function Notice({ children }: { children: ReactNode }) {
  if (!children) return null;
  return (
    <p className="notice" role="status">
      {children}
    </p>
  );
}

export function Badge({ value, kind }: { value: string | null | undefined; kind?: string }) {
  if (!value) return <span className="muted">—</span>;
  return <span className={`badge ${kind ?? ''} ${kind ? `${kind}-${value}` : ''}`}>{value}</span>;
}

export const Severity = ({ value }: { value: string | null | undefined }) => (
  <Badge value={value} kind="sev" />
);
export const Exposure = ({ value }: { value: string | null | undefined }) => (
  <Badge value={value} kind="exp" />
);

/** Columns of times (by key) never wrap inside a date. */
const TIME_COLUMNS = /^(at|when|time|created|last|since|expires|seen|started|ends)$/;

export interface Column<T> {
  key: string;
  label: string;
  render: (row: T) => ReactNode;
  className?: string;
}

export function Table<T>(props: {
  rows: T[] | undefined;
  columns: Column<T>[];
  rowKey: (row: T, index: number) => string;
  empty?: string;
  caption?: string;
  /** The rows shown are an earlier query's while the current one loads (aria-busy). */
  busy?: boolean;
}) {
  const { rows, columns } = props;
  if (!rows) return null;
  if (rows.length === 0) return <p className="muted">{props.empty ?? 'Nothing here.'}</p>;
  return (
    <div className="table-wrap">
      <table aria-busy={props.busy ? true : undefined}>
        {props.caption ? <caption>{props.caption}</caption> : null}
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c.key} scope="col" className={c.className}>
                {c.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row, i) => (
            <tr key={props.rowKey(row, i)}>
              {columns.map((c) => (
                <td key={c.key} className={c.className ?? (TIME_COLUMNS.test(c.key) ? 'nowrap' : undefined)}>
                  {c.render(row)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** A horizontal bar chart in SVG: one labelled bar per value. */
export function BarChart(props: {
  data: { label: string; value: number; key?: string }[];
  format?: (n: number) => string;
  title: string;
  width?: number;
}) {
  const { data, format = String, title } = props;
  const width = props.width ?? 560;
  const labelWidth = 180;
  const valueWidth = 80;
  const barHeight = 22;
  const max = Math.max(1, ...data.map((d) => d.value));
  const barSpace = width - labelWidth - valueWidth;
  if (data.length === 0) return <p className="muted">No data for {title.toLowerCase()}.</p>;
  return (
    <svg
      className="chart"
      role="img"
      aria-label={title}
      width={width}
      height={data.length * (barHeight + 6)}
      viewBox={`0 0 ${width} ${data.length * (barHeight + 6)}`}
    >
      <title>{title}</title>
      {data.map((d, i) => {
        const y = i * (barHeight + 6);
        const w = Math.max(1, (d.value / max) * barSpace);
        return (
          <g key={d.key ?? d.label}>
            <text x={labelWidth - 8} y={y + barHeight * 0.7} textAnchor="end" className="chart-label">
              {d.label.length > 26 ? `${d.label.slice(0, 25)}…` : d.label}
            </text>
            <rect x={labelWidth} y={y} width={w} height={barHeight} rx={3} className="chart-bar" />
            <text x={labelWidth + w + 6} y={y + barHeight * 0.7} className="chart-value">
              {format(d.value)}
            </text>
          </g>
        );
      })}
    </svg>
  );
}

/** A labelled form control: the label names the control (for assistive tech and tests). */
export function Field(props: { label: string; children: (id: string) => ReactNode; hint?: string }) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{props.label}</label>
      {props.children(id)}
      {props.hint ? <small className="muted">{props.hint}</small> : null}
    </div>
  );
}

/** Runs an async action with busy/error/notice state for a form or button. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [notice, setNotice] = useState<string | undefined>(undefined);
  const run = useCallback(async (fn: () => Promise<unknown>) => {
    setBusy(true);
    setError(undefined);
    setNotice(undefined);
    try {
      const message = await fn();
      if (typeof message === 'string' && message) setNotice(message);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, notice, run, setError };
}

/** Header text of a camelCase field name: `lastSyncAt` → `Last sync at`. */
export function humanize(key: string): string {
  const words = key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1).toLowerCase();
}

/**
 * A table of rows whose shape the page does not fix (users, groups, drives, permissions):
 * the scalar fields of the rows, `preferred` first, at most `max` columns.
 */
export function AutoTable(props: {
  rows: Record<string, unknown>[] | undefined;
  preferred?: string[];
  hidden?: string[];
  max?: number;
  empty?: string;
  render?: Record<string, (row: Record<string, unknown>) => ReactNode>;
}) {
  const { rows, preferred = [], hidden = [], max = 8, render = {} } = props;
  if (!rows) return null;
  const keys: string[] = [];
  const scalar = (v: unknown) => v === null || ['string', 'number', 'boolean'].includes(typeof v);
  for (const k of preferred) if (rows.some((r) => k in r)) keys.push(k);
  for (const row of rows.slice(0, 20))
    for (const [k, v] of Object.entries(row))
      if (!keys.includes(k) && !hidden.includes(k) && (scalar(v) || render[k])) keys.push(k);
  const columns: Column<Record<string, unknown>>[] = keys.slice(0, max).map((k) => ({
    key: k,
    label: humanize(k),
    render: render[k] ?? ((row) => cell(row[k])),
    className: typeof rows[0]?.[k] === 'number' ? 'num' : undefined,
  }));
  return <Table rows={rows} columns={columns} rowKey={(r, i) => String(r.id ?? i)} empty={props.empty} />;
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'string' && /^\d{4}-\d\d-\d\dT/.test(value))
    return value.replace('T', ' ').slice(0, 16);
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** `fn` at most once per `ms`, trailing (a burst of live events reads a list once). */
export function useThrottled(fn: () => void, ms: number): () => void {
  const ref = useRef(fn);
  ref.current = fn;
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  return useCallback(() => {
    if (timer.current) return;
    timer.current = setTimeout(() => {
      timer.current = undefined;
      ref.current();
    }, ms);
  }, [ms]);
}
