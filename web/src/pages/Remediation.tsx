import { Link, useSearchParams } from 'react-router-dom';
import { queryString, rowPath } from '../api.ts';
import { text, when } from '../format.ts';
import { ErrorBox, Loading, Pager, Table, useApi, usePaged } from '../ui.tsx';
import { ReviewReport } from './ReviewReport.tsx';

interface TrailRow {
  id: number;
  integrationId: string;
  planId: string;
  action: string;
  origin: string;
  driveId: string | null;
  itemId: string | null;
  permissionId: string | null;
  itemPath: string | null;
  reason: string;
  before: unknown;
  after: unknown;
  actor: string;
  requestedAt: string;
  finishedAt: string;
  result: string;
  httpStatus: number | null;
  requestId: string | null;
  error: string | null;
}
interface Campaign {
  id: number;
  name: string;
  integrationId: string;
  createdAt: string;
  createdBy: string;
  expiresAt: string;
  total: number;
  answered: number;
  kept: number;
  revoked: number;
  unanswered: number;
  escalated: number;
}
interface Auto {
  rules: { ruleId: string; graceSeconds: number; scope: string; createdBy: string }[];
  dailyCap: number;
  usedToday: number;
}

export function RemediationPage() {
  const [params] = useSearchParams();
  const planId = params.get('planId');
  const campaign = params.get('campaign');
  const trail = usePaged<TrailRow>(`/remediation/actions${queryString({ planId, limit: 50 })}`);
  const campaigns = useApi<{ items: Campaign[] }>('/remediation/reviews?limit=20');
  const integrations = useApi<{ items: { id: string; name: string }[] }>('/integrations?limit=100');
  const first = integrations.data?.items[0];
  const auto = useApi<Auto>(first ? `/remediation/auto?integrationId=${encodeURIComponent(first.id)}` : null);
  return (
    <section>
      <h1>Remediation trail</h1>
      <p className="muted">
        Every change drivewarden made in the tenant: who asked for it, what it removed, Graph's answer.
        {planId ? ` Plan ${planId} only.` : ''}
      </p>
      <ErrorBox error={trail.error} />
      <Loading when={trail.loading && !trail.data} />
      <Table
        rows={trail.data?.items}
        rowKey={(r) => String(r.id)}
        empty="No remediation yet."
        caption="Changes, newest first"
        columns={[
          { key: 'at', label: 'When', render: (r) => when(r.finishedAt) },
          { key: 'actor', label: 'Who', render: (r) => r.actor },
          { key: 'action', label: 'Action', render: (r) => r.action.replaceAll('_', ' ') },
          {
            key: 'item',
            label: 'Item',
            render: (r) =>
              r.itemId ? (
                <Link to={`/inventory/items/${rowPath(r.integrationId, r.itemId)}`}>
                  {r.itemPath ?? r.itemId}
                </Link>
              ) : (
                '—'
              ),
          },
          { key: 'reason', label: 'Why', render: (r) => r.reason },
          { key: 'before', label: 'Before', render: (r) => <code className="clip">{text(r.before)}</code> },
          {
            key: 'result',
            label: 'Result',
            render: (r) =>
              `${r.result}${r.httpStatus ? ` (${r.httpStatus})` : ''}${r.error ? `: ${r.error}` : ''}`,
          },
          { key: 'req', label: 'Graph request id', render: (r) => <code>{r.requestId ?? '—'}</code> },
        ]}
      />
      <Pager {...trail} label="trail pages" />

      <h2>Auto-remediation{first ? ` (${first.name})` : ''}</h2>
      <ErrorBox error={auto.error} />
      {auto.data ? (
        <>
          <p>
            {auto.data.usedToday} of {auto.data.dailyCap} automatic removals used today.
          </p>
          <Table
            rows={auto.data.rules}
            rowKey={(r) => r.ruleId}
            empty="No rule is remediated automatically (drivewarden remediate auto allow)."
            columns={[
              {
                key: 'rule',
                label: 'Rule',
                render: (r) => <Link to={`/rules/${encodeURIComponent(r.ruleId)}`}>{r.ruleId}</Link>,
              },
              { key: 'scope', label: 'Scope', render: (r) => r.scope },
              { key: 'grace', label: 'Grace', render: (r) => `${Math.round(r.graceSeconds / 60)} min` },
              { key: 'by', label: 'Allowed by', render: (r) => r.createdBy },
            ]}
          />
        </>
      ) : null}

      <h2>Access reviews</h2>
      <ErrorBox error={campaigns.error} />
      <Table
        rows={campaigns.data?.items}
        rowKey={(c) => String(c.id)}
        empty="No review campaigns."
        columns={[
          {
            key: 'name',
            label: 'Campaign',
            render: (c) => <Link to={`/remediation?campaign=${c.id}`}>{c.name}</Link>,
          },
          { key: 'created', label: 'Started', render: (c) => `${when(c.createdAt)} by ${c.createdBy}` },
          { key: 'expires', label: 'Ends', render: (c) => when(c.expiresAt) },
          { key: 'progress', label: 'Answered', render: (c) => `${c.answered} of ${c.total}` },
          { key: 'kept', label: 'Kept', render: (c) => c.kept },
          { key: 'revoked', label: 'Revoked', render: (c) => c.revoked },
          { key: 'unanswered', label: 'Unanswered', render: (c) => c.unanswered },
          { key: 'escalated', label: 'Escalated', render: (c) => c.escalated },
        ]}
      />
      {campaign ? <ReviewReport id={campaign} /> : null}
    </section>
  );
}
