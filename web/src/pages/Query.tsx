import { useMemo, useState } from 'react';
import { api, download } from '../api.ts';
import { text } from '../format.ts';
import { useIsAdmin } from '../session.tsx';
import { type SchemaTable, SqlEditor } from '../sql-editor.tsx';
import { ErrorBox, Field, Notice, useAction, useApi } from '../ui.tsx';

interface QueryResult {
  columns: (string | { name: string })[];
  rows: (unknown[] | Record<string, unknown>)[];
  rowCount: number;
  truncated: boolean;
  ms: number;
}
interface SavedQuery {
  name: string;
  sql: string;
  description?: string | null;
}
interface Example {
  name: string;
  sql: string;
  description?: string;
  title?: string;
}

type SchemaAnswer = SchemaTable[] | { tables: SchemaTable[] };
const listOf = <T,>(answer: T[] | { items: T[] } | undefined): T[] =>
  answer === undefined ? [] : Array.isArray(answer) ? answer : answer.items;

const START =
  'select name, path, size\nfrom drive_items\nwhere deleted_at is null\norder by size desc\nlimit 20';

export function QueryPage() {
  const isAdmin = useIsAdmin();
  const [sql, setSql] = useState(START);
  const [result, setResult] = useState<QueryResult | undefined>(undefined);
  const [saveName, setSaveName] = useState('');
  const schema = useApi<SchemaAnswer>('/query/schema');
  const saved = useApi<SavedQuery[] | { items: SavedQuery[] }>('/saved-queries');
  const examples = useApi<Example[] | { items: Example[] }>('/query/examples');
  const tables = useMemo(
    () => (Array.isArray(schema.data) ? schema.data : (schema.data?.tables ?? [])),
    [schema.data],
  );
  const run = useAction();
  const exporting = useAction();
  const saving = useAction();

  const execute = () =>
    void run.run(async () => {
      setResult(await api.post<QueryResult>('/query', { sql }));
    });
  const columns = (result?.columns ?? []).map((c) => (typeof c === 'string' ? c : c.name));

  return (
    <section>
      <h1>Query console</h1>
      <div className="query-layout">
        <div>
          <SqlEditor label="SQL (read-only)" value={sql} onChange={setSql} onRun={execute} tables={tables} />
          <div className="actions">
            <button type="button" className="primary" onClick={execute} disabled={run.busy}>
              {run.busy ? 'Running…' : 'Run query'}
            </button>
            <button
              type="button"
              disabled={exporting.busy}
              onClick={() =>
                void exporting.run(() =>
                  download('/api/v1/query/export', { sql, format: 'csv' }, 'query.csv'),
                )
              }
            >
              Export CSV
            </button>
            <button
              type="button"
              disabled={exporting.busy}
              onClick={() =>
                void exporting.run(() =>
                  download('/api/v1/query/export', { sql, format: 'json' }, 'query.json'),
                )
              }
            >
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
                  await api.post('/saved-queries', { name: saveName, sql });
                  saved.reload();
                  return `Saved as ${saveName}.`;
                });
              }}
            >
              <Field label="Save as">
                {(id) => (
                  <input id={id} value={saveName} required onChange={(e) => setSaveName(e.target.value)} />
                )}
              </Field>
              <button type="submit" disabled={saving.busy}>
                Save query
              </button>
            </form>
          ) : null}
          <ErrorBox error={saving.error} />
          <Notice>{saving.notice}</Notice>
        </div>
        <aside aria-label="saved and example queries">
          <h2>Saved queries</h2>
          <ErrorBox error={saved.error} />
          <ul className="plain">
            {listOf(saved.data).map((q) => (
              <li key={q.name}>
                <button type="button" className="link" onClick={() => setSql(q.sql)}>
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
            {saved.data && listOf(saved.data).length === 0 ? <li className="muted">None yet.</li> : null}
          </ul>
          <h2>Examples</h2>
          <ul className="plain">
            {listOf(examples.data).map((q) => (
              <li key={q.name}>
                <button type="button" className="link" onClick={() => setSql(q.sql)} title={q.description}>
                  {q.title ?? q.name}
                </button>
              </li>
            ))}
          </ul>
          <h2>Tables</h2>
          <ul className="plain tables-list">
            {tables.map((t) => (
              <li key={t.name}>
                <details>
                  <summary>{t.name}</summary>
                  <ul>
                    {t.columns.map((c) => (
                      <li key={c.name} title={c.description}>
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
      {result ? (
        <>
          <p className="muted" role="status">
            {result.rowCount} rows in {result.ms} ms
            {result.truncated ? ' (truncated: refine the query or export)' : ''}
          </p>
          <div className="table-wrap grid">
            <table>
              <thead>
                <tr>
                  {columns.map((c) => (
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
                    {columns.map((c, j) => (
                      <td key={c}>{text(Array.isArray(row) ? row[j] : row[c])}</td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      ) : null}
    </section>
  );
}
