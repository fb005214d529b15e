import { useState } from 'react';
import { Link } from 'react-router-dom';
import { rowPath } from '../api.ts';
import { bytes, count, when } from '../format.ts';
import { BarChart, ErrorBox, Field, Loading, Pager, Severity, Table, useApi, usePaged } from '../ui.tsx';

interface UsageRow {
  integrationId: string;
  id: string;
  name: string | null;
  email: string | null;
  drives: number;
  used: number;
  total: number;
  deleted: number;
  worstQuotaState: string | null;
}
interface DriveRow {
  integrationId: string;
  id: string;
  name: string | null;
  ownerName: string | null;
  ownerEmail: string | null;
  quotaUsed: number | null;
  quotaTotal: number | null;
  quotaState: string | null;
}
interface Top {
  totals: { drives: number; used: number; total: number; deleted: number };
  quotaStates: Record<'normal' | 'nearing' | 'critical' | 'exceeded' | 'unknown', number>;
  drives: DriveRow[];
  files: {
    integrationId: string;
    driveId: string;
    id: string;
    name: string | null;
    path: string | null;
    size: number;
    owner: string | null;
  }[];
}
interface Policy {
  id: number;
  integrationId: string;
  scopeKind: 'user' | 'group';
  scopeName: string | null;
  scopeId: string;
  limit: string;
  warningThreshold: number;
  violationThreshold: number;
  description: string | null;
  violations: {
    findingId: number;
    driveId: string;
    owner: string | null;
    name: string | null;
    severity: string;
    message: string;
    usedBytes: number | null;
    limitBytes: number | null;
    since: string;
  }[];
}

const STATES = ['normal', 'nearing', 'critical', 'exceeded', 'unknown'] as const;
const pct = (n: number) => `${Math.round(n * 100)} %`;

export function StoragePage() {
  const [by, setBy] = useState<'user' | 'group'>('user');
  const usage = usePaged<UsageRow>(`/storage/usage?by=${by}&limit=20`);
  const top = useApi<Top>('/storage/top?limit=10');
  const policies = useApi<{ items: Policy[] }>('/storage/policies');
  const t = top.data;
  return (
    <section>
      <h1>Storage</h1>
      <ErrorBox error={top.error} />
      <Loading when={top.loading && !t} />
      {t ? (
        <>
          <ul className="cards" aria-label="storage totals">
            <li className="card">
              <div className="card-body">
                <span className="card-label">Used</span>
                <span className="card-value">{bytes(t.totals.used)}</span>
                <span className="muted">
                  of {bytes(t.totals.total)} in {count(t.totals.drives)} drives
                </span>
              </div>
            </li>
            <li className="card">
              <div className="card-body">
                <span className="card-label">Recycle bins</span>
                <span className="card-value">{bytes(t.totals.deleted)}</span>
                <span className="muted">deleted, still counted</span>
              </div>
            </li>
          </ul>
          <div className="columns">
            <div>
              <h2>Drives by quota state</h2>
              <BarChart
                title="Drives by quota state"
                data={STATES.map((s) => ({ label: s, value: t.quotaStates[s] ?? 0 }))}
                format={count}
                width={440}
              />
            </div>
            <div>
              <h2>Largest drives</h2>
              <BarChart
                title="Largest drives"
                data={t.drives.map((d) => ({
                  label: d.ownerName ?? d.ownerEmail ?? d.name ?? d.id,
                  key: `${d.integrationId}/${d.id}`,
                  value: d.quotaUsed ?? 0,
                }))}
                format={bytes}
                width={520}
              />
            </div>
          </div>
          <h2>Largest files</h2>
          <Table
            rows={t.files}
            rowKey={(f) => `${f.integrationId}/${f.id}`}
            empty="No files."
            columns={[
              {
                key: 'name',
                label: 'File',
                render: (f) => (
                  <Link to={`/inventory/items/${rowPath(f.integrationId, f.id)}`}>{f.name ?? f.id}</Link>
                ),
              },
              { key: 'path', label: 'Path', render: (f) => <span className="path">{f.path ?? '—'}</span> },
              { key: 'owner', label: 'Owner', render: (f) => f.owner ?? '—' },
              { key: 'size', label: 'Size', render: (f) => bytes(f.size), className: 'num' },
            ]}
          />
        </>
      ) : null}

      <h2>Usage by {by}</h2>
      <Field label="Usage per">
        {(id) => (
          <select id={id} value={by} onChange={(e) => setBy(e.target.value as 'user' | 'group')}>
            <option value="user">user (drives they own)</option>
            <option value="group">group (drives of its members)</option>
          </select>
        )}
      </Field>
      <ErrorBox error={usage.error} />
      {usage.data ? (
        <BarChart
          title={`Storage used per ${by}`}
          data={usage.data.items.map((u) => ({
            label: u.name ?? u.email ?? u.id,
            key: `${u.integrationId}/${u.id}`,
            value: u.used,
          }))}
          format={bytes}
        />
      ) : null}
      <Table
        rows={usage.data?.items}
        rowKey={(u) => `${u.integrationId}/${u.id}`}
        empty="No usage recorded."
        columns={[
          { key: 'name', label: by === 'user' ? 'User' : 'Group', render: (u) => u.name ?? u.id },
          { key: 'email', label: 'E-mail', render: (u) => u.email ?? '—' },
          { key: 'drives', label: 'Drives', render: (u) => count(u.drives), className: 'num' },
          { key: 'used', label: 'Used', render: (u) => bytes(u.used), className: 'num' },
          { key: 'total', label: 'Quota', render: (u) => bytes(u.total), className: 'num' },
          {
            key: 'share',
            label: 'Share',
            render: (u) => (u.total ? pct(u.used / u.total) : '—'),
            className: 'num',
          },
          { key: 'state', label: 'Worst quota state', render: (u) => u.worstQuotaState ?? '—' },
        ]}
      />
      <Pager {...usage} label="usage pages" />

      <h2>Storage policies</h2>
      <ErrorBox error={policies.error} />
      {policies.data?.items.length === 0 ? (
        <p className="muted">No storage policies (drivewarden policies add).</p>
      ) : null}
      {policies.data?.items.map((p) => (
        <div key={p.id} className="policy">
          <h3>
            {p.scopeKind} {p.scopeName ?? p.scopeId}: at most {p.limit}
          </h3>
          <p className="muted">
            {p.description ? `${p.description} · ` : ''}warning at {pct(p.warningThreshold)}, violation above{' '}
            {pct(p.violationThreshold)} of the limit
          </p>
          <Table
            rows={p.violations}
            rowKey={(v) => String(v.findingId)}
            empty="No drive violates or nears it."
            columns={[
              { key: 'sev', label: 'Severity', render: (v) => <Severity value={v.severity} /> },
              {
                key: 'drive',
                label: 'Drive',
                render: (v) => <Link to={`/findings/${v.findingId}`}>{v.owner ?? v.name ?? v.driveId}</Link>,
              },
              { key: 'used', label: 'Used', render: (v) => bytes(v.usedBytes), className: 'num' },
              { key: 'limit', label: 'Limit', render: (v) => bytes(v.limitBytes), className: 'num' },
              { key: 'since', label: 'Since', render: (v) => when(v.since) },
              { key: 'msg', label: 'Message', render: (v) => v.message },
            ]}
          />
        </div>
      ))}
    </section>
  );
}
