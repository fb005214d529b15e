import { useMemo, useState } from 'react';
import { api, download } from '../api.ts';
import { text } from '../format.ts';
import { useIsAdmin } from '../session.tsx';
import { parameterNames, type SchemaTable, SqlEditor } from '../sql-editor.tsx';
import { ErrorBox, Field, Notice, useAction, useApi } from '../ui.tsx';

interface QueryResult {
  columns: string[];
  rows: Record<string, unknown>[];
  rowCount: number;
  truncated: boolean;
  truncatedBy?: 'rows' | 'bytes' | null;
  ms: number;
}
type ParamValue = string | number | boolean | null;
interface SavedQuery {
  name: string;
  description: string;
  sql: string;
  params: Record<string, ParamValue>;
}
interface Example {
  name: string;
  title: string;
  description: string;
  sql: string;
  params: Record<string, { description: string; default: unknown }>;
}

const START = `select name, path, size
from drive_items
where deleted_at is null and is_folder = false
order by size desc
limit 20`;

/** A typed parameter value from its text: numbers and booleans as such, the rest as text. */
const typed = (raw: string): ParamValue =>
  raw === ''
    ? null
    : /^-?\d+(\.\d+)?$/.test(raw)
      ? Number(raw)
      : raw === 'true' || raw === 'false'
        ? raw === 'true'
        : raw;

export function QueryPage() {
  const isAdmin = useIsAdmin();
  const [sql, setSql] = useState(START);
  const [values, setValues] = useState<Record<string, string>>({});
  const [result, setResult] = useState<QueryResult | undefined>(undefined);
  const [saveName, setSaveName] = useState('');
  const [saveDescription, setSaveDescription] = useState('');
  const schema = useApi<{ tables: SchemaTable[] }>('/query/schema');
  const saved = useApi<{ items: SavedQuery[] }>('/saved-queries?limit=200');
  const examples = useApi<{ items: Example[] }>('/query/examples');
  const tables = useMemo(() => schema.data?.tables ?? [], [schema.data]);
  const names = useMemo(() => parameterNames(sql), [sql]);
  const run = useAction();
  const exporting = useAction();
  const saving = useAction();

  const body = () => ({
    sql,
    params: Object.fromEntries(names.map((n) => [n, typed(values[n] ?? '')])),
  });
  const load = (q: { sql: string }, defaults: Record<string, unknown>) => {
    setSql(q.sql);
    setValues(Object.fromEntries(Object.entries(defaults).map(([k, v]) => [k, v === null ? '' : text(v)])));
    setResult(undefined);
  };
  const execute = () =>
    void run.run(async () => {
      setResult(await api.post<QueryResult>('/query', body()));
    });
  const exportAs = (format: 'csv' | 'json') =>
    void exporting.run(() => download('/api/v1/query/export', { ...body(), format }, `query.${format}`));

  return (
    <section>
      <h1>Query console</h1>
      <div className="query-layout">
        <div>
          <SqlEditor label="SQL (read-only)" value={sql} onChange={setSql} onRun={execute} tables={tables} />
          {names.length ? (
            <fieldset className="inline-form">
              <legend>Parameters</legend>
              {names.map((n) => (
                <Field key={n} label={`:${n}`}>
                  {(id) => (
                    <input
                      id={id}
                      value={values[n] ?? ''}
                      onChange={(e) => setValues((v) => ({ ...v, [n]: e.target.value }))}
                    />
                  )}
                </Field>
              ))}
            </fieldset>
          ) : null}
          <div className="actions">
            <button type="button" className="primary" onClick={execute} disabled={run.busy}>
              {run.busy ? 'Running…' : 'Run query'}
            </button>
            <button type="button" disabled={exporting.busy} onClick={() => exportAs('csv')}>
              Export CSV
            </button>
            <button type="button" disabled={exporting.busy} onClick={() => exportAs('json')}>
              Export JSON
            </button>
          </div>
          <ErrorBox error={run.error ?? exporting.error} />
          {isAdmin ? (
            <form
              className="inline-form"
              aria-label="save query"
              onSubmit={(e) => {
                e.preventDefault();
                void saving.run(async () => {
                  await api.post('/saved-queries', { name: saveName, description: saveDescription, sql });
                  saved.reload();
                  return `Saved as ${saveName}.`;
                });
              }}
            >
              <Field label="Save as (name)">
                {(id) => (
                  <input
                    id={id}
                    value={saveName}
                    required
                    pattern="[a-z0-9_\-]{1,63}"
                    title="1-63 lower-case letters, digits, - and _"
                    onChange={(e) => setSaveName(e.target.value)}
                  />
                )}
              </Field>
              <Field label="Description">
                {(id) => (
                  <input
                    id={id}
                    value={saveDescription}
                    required
                    onChange={(e) => setSaveDescription(e.target.value)}
                  />
                )}
              </Field>
              <button type="submit" disabled={saving.busy}>
                Save query
              </button>
            </form>
          ) : null}
          <ErrorBox error={saving.error} />
          <Notice>{saving.notice}</Notice>
          {result ? (
            <>
              <p className="muted" role="status">
                {result.rowCount} rows in {result.ms} ms
                {result.truncated
                  ? ` (truncated by ${result.truncatedBy ?? 'the limits'}: refine the query)`
                  : ''}
              </p>
              <div className="table-wrap grid">
                <table aria-label="query results">
                  <thead>
                    <tr>
                      {result.columns.map((c) => (
                        <th key={c} scope="col">
                          {c}
                        </th>
                      ))}
                    </tr>
                  </thead>
                  <tbody>
                    {result.rows.map((row, i) => (
                      // biome-ignore lint/suspicious/noArrayIndexKey: result rows have no identity
                      <tr key={i}>
                        {result.columns.map((c) => (
                          <td key={c}>{text(row[c])}</td>
                        ))}
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </>
          ) : null}
        </div>
        <aside aria-label="saved and example queries">
          <h2>Saved queries</h2>
          <ErrorBox error={saved.error} />
          <ul className="plain">
            {(saved.data?.items ?? []).map((q) => (
              <li key={q.name}>
                <button
                  type="button"
                  className="link"
                  onClick={() => load(q, q.params)}
                  title={q.description}
                >
                  {q.name}
                </button>
                {isAdmin ? (
                  <button
                    type="button"
                    className="link danger"
                    aria-label={`delete saved query ${q.name}`}
                    onClick={() =>
                      void saving.run(async () => {
                        await api.delete(`/saved-queries/${encodeURIComponent(q.name)}`);
                        saved.reload();
                        return `Deleted ${q.name}.`;
                      })
                    }
                  >
                    delete
                  </button>
                ) : null}
              </li>
            ))}
            {saved.data && saved.data.items.length === 0 ? <li className="muted">None yet.</li> : null}
          </ul>
          <h2>Examples</h2>
          <ul className="plain">
            {(examples.data?.items ?? []).map((q) => (
              <li key={q.name}>
                <button
                  type="button"
                  className="link"
                  title={q.description}
                  onClick={() =>
                    load(q, Object.fromEntries(Object.entries(q.params).map(([k, p]) => [k, p.default])))
                  }
                >
                  {q.title}
                </button>
              </li>
            ))}
          </ul>
          <h2>Tables</h2>
          <ErrorBox error={schema.error} />
          <ul className="plain tables-list">
            {tables.map((t) => (
              <li key={t.name}>
                <details>
                  <summary title={t.description ?? undefined}>{t.name}</summary>
                  <ul>
                    {t.columns.map((c) => (
                      <li key={c.name} title={c.description ?? undefined}>
                        <code>{c.name}</code> <small className="muted">{c.type}</small>
                      </li>
                    ))}
                  </ul>
                </details>
              </li>
            ))}
          </ul>
        </aside>
      </div>
    </section>
  );
}
