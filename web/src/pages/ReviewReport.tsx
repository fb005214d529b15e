import { API } from '../api.ts';
import { when } from '../format.ts';
import { ErrorBox, Loading, Table, useApi } from '../ui.tsx';

/** One access-review campaign's report: its counts, who was asked (when, how), and the CSV. */

interface Notice {
  owner: string;
  step: 'owner' | 'manager' | 'admins';
  recipient: string | null;
  via: string | null;
  note: string | null;
  items: number;
  askedAt: string;
  status: 'sending' | 'sent' | 'failed';
  error: string | null;
}
interface Report {
  id: number;
  name: string;
  createdAt: string;
  expiresAt: string;
  total: number;
  answered: number;
  kept: number;
  revoked: number;
  unanswered: number;
  escalated: number;
  notices: Notice[];
}

const STEP = { owner: 'owner', manager: "owner's manager", admins: 'admins' } as const;

export function ReviewReport({ id }: { id: string }) {
  const report = useApi<Report>(`/remediation/reviews/${encodeURIComponent(id)}`);
  const r = report.data;
  return (
    <section aria-label="campaign report">
      <ErrorBox error={report.error} />
      <Loading when={report.loading && !r} />
      {r ? (
        <>
          <h3>Report: {r.name}</h3>
          <dl className="counts">
            {(['total', 'answered', 'kept', 'revoked', 'unanswered', 'escalated'] as const).map((k) => (
              <div key={k}>
                <dt>{k === 'total' ? 'grants' : k}</dt>
                <dd data-count={k}>{r[k]}</dd>
              </div>
            ))}
          </dl>
          <p>
            <a href={`${API}/remediation/reviews/${r.id}?format=csv`} download={`campaign-${r.id}.csv`}>
              Download the report (CSV)
            </a>
          </p>
          <Table
            rows={r.notices}
            rowKey={(_n, i) => String(i)}
            caption="Who was asked"
            empty="Nobody was sent a message (the links were handed out by hand)."
            columns={[
              { key: 'askedAt', label: 'When', render: (n) => when(n.askedAt) },
              { key: 'step', label: 'Step', render: (n) => STEP[n.step] },
              { key: 'owner', label: 'For the files of', render: (n) => n.owner },
              { key: 'recipient', label: 'Asked', render: (n) => n.recipient ?? '—' },
              { key: 'via', label: 'How', render: (n) => n.via ?? '—' },
              { key: 'items', label: 'Grants', render: (n) => n.items },
              {
                key: 'status',
                label: 'Result',
                render: (n) => `${n.status}${n.error ? `: ${n.error}` : ''}${n.note ? ` (${n.note})` : ''}`,
              },
            ]}
          />
        </>
      ) : null}
    </section>
  );
}
