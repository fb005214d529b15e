import { useState } from 'react';
import { Link } from 'react-router-dom';
import { ago, bytes, count, percent, when } from '../format.ts';
import { type LiveMessage, useLiveEvents } from '../live.ts';
import { BarChart, ErrorBox, Loading, Table, useApi, useThrottled } from '../ui.tsx';

interface Bucket {
  files: number;
  bytes: number;
}
interface Overview {
  exposure: { public: Bucket; external: Bucket; internal: Bucket; private: Bucket };
  /** Exposed files per UTC day; null on days nothing was counted. */
  exposureTrend: { day: string; public: number | null; external: number | null; internal: number | null }[];
  findings: Record<'critical' | 'high' | 'medium' | 'low' | 'info', number>;
  packs: {
    id: string;
    title: string;
    integrationId?: string;
    score: number | null;
    passing?: number;
    evaluated?: number;
  }[];
  syncHealth: {
    integrationId: string;
    name: string;
    status: 'ok' | 'syncing' | 'error' | 'disabled' | 'never' | string;
    lastSyncAt: string | null;
    lagSeconds: number | null;
    errors: number;
  }[];
  recentAlerts: {
    at: string;
    policy: string;
    channel: string;
    status: string;
    title: string;
    severity?: string;
  }[];
}

const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
const EXPOSURES = ['public', 'external', 'internal', 'private'] as const;

export function OverviewPage() {
  const overview = useApi<Overview>('/overview');
  const reloadSoon = useThrottled(overview.reload, 1000);
  const [feed, setFeed] = useState<(LiveMessage & { seq: number })[]>([]);
  const [connected, setConnected] = useState(false);
  useLiveEvents((message) => {
    // A sync round touches every drive (and each drive's pending permission reads): one line per
    // integration, kind of scope and phase, moved to the top, so the chatter never pushes
    // findings and alerts out of the feed.
    const key = syncLine(message);
    setFeed((f) =>
      [{ ...message, seq: (f[0]?.seq ?? 0) + 1 }, ...(key ? f.filter((m) => syncLine(m) !== key) : f)].slice(
        0,
        30,
      ),
    );
    if (message.type === 'finding' || message.type === 'sync' || message.type === 'alert') reloadSoon();
  }, setConnected);
  const o = overview.data;
  const names = new Map((o?.syncHealth ?? []).map((h) => [h.integrationId, h.name]));
  return (
    <section>
      <h1>Overview</h1>
      <ErrorBox error={overview.error} />
      <Loading when={overview.loading && !o} />
      {o ? (
        <>
          <h2>Exposure</h2>
          <ul className="cards" aria-label="exposure">
            {EXPOSURES.map((e) => (
              <li key={e} className={`card exp-card-${e}`}>
                <Link to={`/inventory?exposure=${e}`}>
                  <span className="card-label">{e}</span>
                  <span className="card-value">{count(o.exposure[e]?.files)}</span>
                  <span className="muted">files · {bytes(o.exposure[e]?.bytes)}</span>
                </Link>
              </li>
            ))}
          </ul>
          {o.exposureTrend?.length ? <Trend points={o.exposureTrend} /> : null}
          <div className="columns">
            <div>
              <h2>Open findings by severity</h2>
              <BarChart
                title="Open findings by severity"
                data={SEVERITIES.map((s) => ({ label: s, value: o.findings[s] ?? 0 }))}
                format={count}
                width={420}
              />
              <p>
                <Link to="/findings?status=open">All open findings</Link>
              </p>
            </div>
            <div>
              <h2>Pack scores</h2>
              <Table
                rows={o.packs}
                rowKey={(p) => `${p.id}/${p.integrationId ?? ''}`}
                empty="No packs."
                columns={[
                  {
                    key: 'pack',
                    label: 'Pack',
                    render: (p) => <Link to={`/packs/${encodeURIComponent(p.id)}`}>{p.title}</Link>,
                  },
                  {
                    key: 'integration',
                    label: 'Integration',
                    render: (p) => (p.integrationId ? (names.get(p.integrationId) ?? p.integrationId) : '—'),
                  },
                  {
                    key: 'score',
                    label: 'Score',
                    render: (p) => percent(p.score),
                    className: 'num',
                  },
                ]}
              />
            </div>
          </div>
          <h2>Sync health</h2>
          <Table
            rows={o.syncHealth}
            rowKey={(s) => s.integrationId}
            empty="No integrations yet: add one under Integrations."
            columns={[
              { key: 'name', label: 'Integration', render: (s) => s.name },
              {
                key: 'status',
                label: 'Status',
                render: (s) => <span className={`status status-${s.status}`}>{s.status}</span>,
              },
              { key: 'last', label: 'Last sync', render: (s) => ago(s.lastSyncAt) },
              {
                key: 'lag',
                label: 'Lag',
                render: (s) => (s.lagSeconds === null ? '—' : `${s.lagSeconds} s`),
                className: 'num',
              },
              { key: 'errors', label: 'Errors', render: (s) => count(s.errors), className: 'num' },
            ]}
          />
          <h2>Recent alerts</h2>
          <Table
            rows={o.recentAlerts}
            rowKey={(a, i) => `${a.at}-${i}`}
            empty="No alerts sent yet."
            columns={[
              { key: 'at', label: 'When', render: (a) => when(a.at) },
              { key: 'title', label: 'Alert', render: (a) => a.title },
              { key: 'policy', label: 'Policy', render: (a) => a.policy },
              { key: 'channel', label: 'Channel', render: (a) => a.channel },
              { key: 'status', label: 'Status', render: (a) => a.status },
            ]}
          />
        </>
      ) : null}
      <h2>
        Live feed <span className={connected ? 'dot on' : 'dot'} />{' '}
        <small className="muted">{connected ? 'connected' : 'connecting…'}</small>
      </h2>
      <ol className="feed" aria-label="live feed" aria-live="polite">
        {feed.length === 0 ? <li className="muted">Waiting for changes in the tenant…</li> : null}
        {feed.map((m) => (
          <li key={m.seq}>
            <FeedLine message={m} names={names} />
          </li>
        ))}
      </ol>
    </section>
  );
}

function FeedLine({ message, names }: { message: LiveMessage; names: Map<string, string> }) {
  const d = message.data ?? {};
  switch (message.type) {
    case 'finding':
      return (
        <>
          <span className="feed-kind">finding {d.event}</span>{' '}
          <Link to={`/findings/${d.findingId}`}>{d.ruleId}</Link> on{' '}
          {d.resourcePath ?? d.resourceName ?? d.resourceId}
        </>
      );
    case 'change':
      return (
        <>
          <span className="feed-kind">
            {d.resourceType} {d.action}
          </span>{' '}
          {d.resourceId}
          {d.actor ? ` by ${d.actor}` : ''}
        </>
      );
    case 'changes':
      return <span className="feed-kind">{count(d.skipped)} changes collected</span>;
    case 'sync':
      // Scopes are `drive:<id>`, `audit:<content type>`, `directory`…: the kind is enough here.
      return (
        <>
          <span className="feed-kind">sync</span> {names.get(d.integrationId) ?? d.integrationId}{' '}
          {String(d.scope ?? '').split(':')[0]}: {d.phase}
          {d.lastError ? ` — ${d.lastError}` : ''}
        </>
      );
    case 'alert':
      return (
        <>
          <span className="feed-kind">alert {d.status}</span> {d.title}
        </>
      );
    default:
      return null;
  }
}

/**
 * Publicly / externally / internally shared files per day, as small SVG polylines; a day
 * nothing was counted (before drivewarden watched, or while it was stopped) breaks the line.
 */
function Trend({ points }: { points: Overview['exposureTrend'] }) {
  const width = 560;
  const height = 120;
  const series = ['public', 'external', 'internal'] as const;
  const max = Math.max(1, ...points.flatMap((p) => series.map((s) => p[s] ?? 0)));
  const x = (i: number) => (points.length === 1 ? width / 2 : (i / (points.length - 1)) * (width - 20) + 10);
  const y = (v: number) => height - 10 - (v / max) * (height - 20);
  return (
    <figure className="trend">
      <svg
        role="img"
        aria-label="exposure trend"
        width={width}
        height={height}
        viewBox={`0 0 ${width} ${height}`}
      >
        <title>Exposed files per day</title>
        {series.flatMap((s) =>
          runsOf(points.map((p) => p[s])).map((run) => (
            <polyline
              key={`${s}-${run[0].i}`}
              className={`trend-${s}`}
              fill="none"
              strokeWidth={2}
              strokeLinecap="round"
              points={run.map(({ i, v }) => `${x(i)},${y(v)}`).join(' ')}
            />
          )),
        )}
      </svg>
      <figcaption>
        Exposed files per day, {points[0]?.day} to {points[points.length - 1]?.day}:{' '}
        <span className="trend-key trend-public">public</span>{' '}
        <span className="trend-key trend-external">external</span>{' '}
        <span className="trend-key trend-internal">internal</span>
      </figcaption>
    </figure>
  );
}

/** The runs of consecutive known values (a lone point is a run of one, drawn as a dot-sized line). */
function runsOf(values: (number | null)[]): { i: number; v: number }[][] {
  const runs: { i: number; v: number }[][] = [];
  let current: { i: number; v: number }[] = [];
  values.forEach((v, i) => {
    if (v === null) {
      if (current.length) runs.push(current);
      current = [];
    } else current.push({ i, v });
  });
  if (current.length) runs.push(current);
  return runs.map((run) => (run.length === 1 ? [run[0], run[0]] : run));
}

/** The feed line a sync message shares with others like it: integration, kind of scope, phase. */
function syncLine(m: LiveMessage): string | null {
  if (m.type !== 'sync') return null;
  const d = m.data ?? {};
  return [d.integrationId, String(d.scope ?? '').split(':')[0], d.phase].join('\u0000');
}
