import { Link, useParams } from 'react-router-dom';
import { percent, when } from '../format.ts';
import { BarChart, ErrorBox, Loading, Table, useApi } from '../ui.tsx';

interface Score {
  integrationId: string;
  passing: number;
  evaluated: number;
  total: number;
  /** 0–1; null while nothing is evaluated. */
  score: number | null;
}
interface PackSummary {
  id: string;
  title: string;
  version: string;
  source: string;
  description: string | null;
  controls: number;
  covered: number;
  scores: Score[];
}
interface ControlStatus {
  id: string;
  title: string;
  status: 'pass' | 'fail' | 'not_evaluated';
  rules: string[];
  notRun: string[];
  failing: { ruleId: string; open: number }[];
}
interface PackDetail extends PackSummary {
  status: (Score & { controls: ControlStatus[] })[];
  history: (Score & { packId: string; at: string })[];
}

/** The mean score over integrations (what a one-line summary shows). */
const meanScore = (scores: Score[]) => {
  const known = scores.filter((s) => s.score !== null);
  return known.length ? known.reduce((a, s) => a + (s.score ?? 0), 0) / known.length : null;
};

export function PacksPage() {
  const packs = useApi<{ items: PackSummary[] }>('/packs');
  const rows = packs.data?.items;
  return (
    <section>
      <h1>Packs</h1>
      <p className="muted">
        Compliance packs map framework controls to rules; a pack's score is the share of its evaluated checks
        that pass.
      </p>
      <ErrorBox error={packs.error} />
      <Loading when={packs.loading && !rows} />
      {rows ? (
        <BarChart
          title="Pack scores"
          data={rows.map((p) => ({ label: p.title, key: p.id, value: (meanScore(p.scores) ?? 0) * 100 }))}
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
          { key: 'version', label: 'Version', render: (p) => p.version },
          { key: 'controls', label: 'Controls (covered)', render: (p) => `${p.controls} (${p.covered})` },
          { key: 'score', label: 'Score', render: (p) => percent(meanScore(p.scores)), className: 'num' },
        ]}
      />
    </section>
  );
}

export function PackPage() {
  const { id = '' } = useParams();
  const pack = useApi<PackDetail>(`/packs/${encodeURIComponent(id)}`);
  const p = pack.data;
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
          <p className="muted">
            Version {p.version} · {p.source} · {p.controls} controls, {p.covered} decided by rules
          </p>
          <h2>Score over time</h2>
          <BarChart
            title="Score over time"
            data={[...p.history]
              .reverse()
              .slice(-20)
              .map((h, i) => ({
                label: `${when(h.at)} ${h.integrationId}`,
                key: `${h.at}-${h.integrationId}-${i}`,
                value: (h.score ?? 0) * 100,
              }))}
            format={(n) => `${Math.round(n)} %`}
          />
          {p.status.map((s) => (
            <div key={s.integrationId}>
              <h2>
                Controls for {s.integrationId}: {percent(s.score)} ({s.passing} of {s.evaluated} evaluated
                pass)
              </h2>
              <Table
                rows={s.controls}
                rowKey={(c) => c.id}
                columns={[
                  { key: 'id', label: 'Control', render: (c) => <code>{c.id}</code> },
                  { key: 'title', label: 'Title', render: (c) => c.title },
                  {
                    key: 'status',
                    label: 'Status',
                    render: (c) => (
                      <span className={`status status-${c.status}`}>{c.status.replace('_', ' ')}</span>
                    ),
                  },
                  {
                    key: 'rules',
                    label: 'Rules',
                    render: (c) =>
                      c.rules.map((rid, i) => (
                        <span key={rid}>
                          {i ? ', ' : ''}
                          <Link to={`/rules/${encodeURIComponent(rid)}`}>{rid}</Link>
                        </span>
                      )),
                  },
                  {
                    key: 'failing',
                    label: 'Failing',
                    render: (c) =>
                      c.failing.map((f, i) => (
                        <span key={f.ruleId}>
                          {i ? ', ' : ''}
                          <Link to={`/findings?status=open&ruleId=${encodeURIComponent(f.ruleId)}`}>
                            {f.open} open
                          </Link>
                        </span>
                      )),
                  },
                ]}
              />
            </div>
          ))}
        </>
      ) : null}
    </section>
  );
}
