import { useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { api, rowPath } from '../api.ts';
import { text, when } from '../format.ts';
import { RemediatePanel } from '../remediate.tsx';
import { useIsAdmin } from '../session.tsx';
import { ErrorBox, Field, Loading, Notice, Severity, Table, useAction, useApi } from '../ui.tsx';
import type { FindingRow } from './Findings.tsx';

interface FindingDetails extends FindingRow {
  events: {
    id: number;
    at: string;
    event: string;
    result: string;
    severity: string;
    reason: string;
    actor: string | null;
  }[];
  evidence: Record<string, unknown>;
}

/** The inventory page of a finding's item (drive items; a permission's item), if it has one. */
function itemLink(f: FindingRow): string | null {
  if (f.resourceType === 'drive_item')
    return `/inventory/items/${rowPath(f.integrationId, f.itemId ?? f.resourceId)}`;
  if (f.itemId) return `/inventory/items/${rowPath(f.integrationId, f.itemId)}`;
  return null;
}

export function FindingPage() {
  const { id = '' } = useParams();
  const isAdmin = useIsAdmin();
  const finding = useApi<FindingDetails>(`/findings/${encodeURIComponent(id)}`);
  const [reason, setReason] = useState('');
  const [until, setUntil] = useState('');
  const action = useAction();
  const f = finding.data;

  const suppress = () =>
    action.run(async () => {
      await api.post(`/findings/${encodeURIComponent(id)}/suppress`, {
        reason,
        ...(until ? { until: new Date(`${until}T23:59:59Z`).toISOString() } : {}),
      });
      finding.reload();
      setReason('');
      return 'Suppressed.';
    });
  const unsuppress = () =>
    action.run(async () => {
      await api.delete(`/findings/${encodeURIComponent(id)}/suppression`);
      finding.reload();
      return 'Suppression lifted.';
    });

  return (
    <section>
      <p>
        <Link to="/findings">← Findings</Link>
      </p>
      <ErrorBox error={finding.error} />
      <Loading when={finding.loading && !f} />
      {f ? (
        <>
          <h1>
            <Severity value={f.severity} /> {f.ruleTitle}
          </h1>
          <p>{f.message}</p>
          <dl className="facts">
            <dt>Status</dt>
            <dd className={`status status-${f.status}`}>{f.status}</dd>
            <dt>Rule</dt>
            <dd>
              <Link to={`/rules/${encodeURIComponent(f.ruleId)}`}>{f.ruleId}</Link>
            </dd>
            <dt>Resource</dt>
            <dd>
              {itemLink(f) ? (
                <Link to={itemLink(f) ?? ''}>{f.resourcePath ?? f.resourceName ?? f.resourceId}</Link>
              ) : (
                <span>
                  {f.resourceType}: {f.resourcePath ?? f.resourceName ?? f.resourceId}
                </span>
              )}
            </dd>
            <dt>Owner</dt>
            <dd>{f.resourceOwner ?? '—'}</dd>
            <dt>First seen</dt>
            <dd>{when(f.firstSeenAt)}</dd>
            <dt>Last seen</dt>
            <dd>{when(f.lastSeenAt)}</dd>
            {f.resolvedAt ? (
              <>
                <dt>Resolved</dt>
                <dd>{when(f.resolvedAt)}</dd>
              </>
            ) : null}
            {f.suppression ? (
              <>
                <dt>Suppressed</dt>
                <dd className="suppression">
                  “{f.suppression.reason}”
                  {f.suppression.expiresAt ? ` until ${when(f.suppression.expiresAt)}` : ''}
                  {f.suppression.actor ? ` by ${f.suppression.actor}` : ''}
                  {f.suppression.ruleWide ? ' (the whole rule is suppressed)' : ''}
                </dd>
              </>
            ) : null}
          </dl>

          {isAdmin ? (
            f.suppression ? (
              <button type="button" onClick={() => void unsuppress()} disabled={action.busy}>
                Lift suppression
              </button>
            ) : (
              <form
                className="inline-form"
                aria-label="suppress finding"
                onSubmit={(e) => {
                  e.preventDefault();
                  void suppress();
                }}
              >
                <Field label="Reason for suppressing">
                  {(fid) => (
                    <input id={fid} value={reason} required onChange={(e) => setReason(e.target.value)} />
                  )}
                </Field>
                <Field label="Until (optional)">
                  {(fid) => (
                    <input id={fid} type="date" value={until} onChange={(e) => setUntil(e.target.value)} />
                  )}
                </Field>
                <button type="submit" disabled={action.busy}>
                  Suppress
                </button>
              </form>
            )
          ) : null}
          <ErrorBox error={action.error} />
          <Notice>{action.notice}</Notice>
          {isAdmin && f.status === 'open' && f.source !== 'detector' && f.itemId ? (
            <RemediatePanel
              integrationId={f.integrationId}
              target={{ kind: 'finding', findingId: f.id, scope: 'external' }}
              label="Plan removing the sharing this finding is about"
            />
          ) : null}

          {f.evidence && Object.keys(f.evidence).length ? (
            <>
              <h2>Evidence</h2>
              <dl className="facts evidence">
                {Object.entries(f.evidence).map(([k, v]) => (
                  <div key={k} className="fact">
                    <dt>{k}</dt>
                    <dd>{text(v)}</dd>
                  </div>
                ))}
              </dl>
            </>
          ) : null}
          <h2>Events</h2>
          <Table
            rows={f.events ?? []}
            rowKey={(e, i) => `${e.at}-${i}`}
            empty="No events."
            columns={[
              { key: 'at', label: 'When', render: (e) => when(e.at) },
              { key: 'event', label: 'Event', render: (e) => e.event },
              { key: 'result', label: 'Result', render: (e) => e.result },
              { key: 'reason', label: 'Why', render: (e) => text(e.reason) || '—' },
              { key: 'actor', label: 'By', render: (e) => e.actor ?? '—' },
            ]}
          />
        </>
      ) : null}
    </section>
  );
}
