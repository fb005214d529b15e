import { Link, useParams } from 'react-router-dom';
import { text } from '../format.ts';
import { AutoTable, BarChart, ErrorBox, Loading, Table, useApi } from '../ui.tsx';

type Row = Record<string, unknown>;
interface PackRow {
  id: string;
  title: string;
  description?: string;
  score?: number | null;
  controls?: number | Row[];
  [key: string]: unknown;
}
interface PackDetails extends PackRow {
  controls: Row[];
  scores?: { at?: string; day?: string; score: number }[];
  history?: { at?: string; day?: string; score: number }[];
}
const listOf = <T,>(a: T[] | { items: T[] } | undefined) =>
  a === undefined ? undefined : Array.isArray(a) ? a : a.items;
const pct = (n: unknown) => (typeof n === 'number' ? `${Math.round(n)} %` : '—');

export function PacksPage() {
  const packs = useApi<PackRow[] | { items: PackRow[] }>('/packs');
  const rows = listOf(packs.data);
  return (
    <section>
      <h1>Packs</h1>
      <p className="muted">
        Compliance packs map framework controls to rules; a pack's score is the share of its checks that pass.
      </p>
      <ErrorBox error={packs.error} />
      <Loading when={packs.loading && !rows} />
      {rows ? (
        <BarChart
          title="Pack scores"
          data={rows.map((p) => ({ label: p.title, value: typeof p.score === 'number' ? p.score : 0 }))}
          format={(n) => `${Math.round(n)} %`}
        />
      ) : null}
      <Table
        rows={rows}
        rowKey={(p) => p.id}
        empty="No packs."
        columns={[
          {
            key: 'title',
            label: 'Pack',
            render: (p) => <Link to={`/packs/${encodeURIComponent(p.id)}`}>{p.title}</Link>,
          },
          { key: 'desc', label: 'About', render: (p) => p.description ?? '' },
          { key: 'score', label: 'Score', render: (p) => pct(p.score), className: 'num' },
        ]}
      />
    </section>
  );
}

export function PackPage() {
  const { id = '' } = useParams();
  const pack = useApi<PackDetails>(`/packs/${encodeURIComponent(id)}`);
  const p = pack.data;
  const history = p?.scores ?? p?.history ?? [];
  return (
    <section>
      <p>
        <Link to="/packs">← Packs</Link>
      </p>
      <ErrorBox error={pack.error} />
      <Loading when={pack.loading && !p} />
      {p ? (
        <>
          <h1>{p.title}</h1>
          <p>{p.description}</p>
          <p className="big">Score: {pct(p.score)}</p>
          <h2>Score over time</h2>
          <BarChart
            title="Score over time"
            data={history.map((h) => ({ label: text(h.day ?? h.at).slice(0, 10), value: h.score }))}
            format={(n) => `${Math.round(n)} %`}
          />
          <h2>Controls</h2>
          <AutoTable
            rows={p.controls}
            preferred={['id', 'title', 'status', 'rules', 'passed', 'failed']}
            render={{
              rules: (c) =>
                Array.isArray(c.rules)
                  ? (c.rules as (string | { id: string })[]).map((r, i) => {
                      const rid = typeof r === 'string' ? r : r.id;
                      return (
                        <span key={rid}>
                          {i ? ', ' : ''}
                          <Link to={`/rules/${encodeURIComponent(rid)}`}>{rid}</Link>
                        </span>
                      );
                    })
                  : text(c.rules),
            }}
          />
        </>
      ) : null}
    </section>
  );
}
