import { useState } from 'react';
import { Link } from 'react-router-dom';
import { api } from './api.ts';
import { text } from './format.ts';
import { ErrorBox, Notice, Table, useAction } from './ui.tsx';

/** What a dry run plans (POST /remediation/plan). */
interface Plan {
  planId: string;
  integrationId: string;
  kind: 'removal' | 'settings';
  actions: { permissionId: string; itemPath: string | null; description: string; reason: string }[];
  changes: { property: string; before: unknown; after: unknown }[];
  notes: string[];
}
interface Applied {
  planId: string;
  results: {
    permissionId: string | null;
    itemPath: string | null;
    result: 'done' | 'already_gone' | 'skipped' | 'failed';
    httpStatus: number | null;
    error: string | null;
  }[];
  unconfirmed: string[];
}

export type RemediationTarget =
  | { kind: 'item'; itemId: string; driveId?: string; scope: 'public' | 'external'; subtree?: boolean }
  | { kind: 'finding'; findingId: number; scope?: 'public' | 'external' }
  | { kind: 'permission'; permissionId: string; driveId?: string };

/**
 * Remediation from a page: a dry run first (what would be removed, nothing changes), then
 * applying exactly that plan after a confirmation; the results link to the trail.
 */
export function RemediatePanel(props: { integrationId: string; target: RemediationTarget; label: string }) {
  const [plan, setPlan] = useState<Plan | undefined>(undefined);
  const [applied, setApplied] = useState<Applied | undefined>(undefined);
  const action = useAction();
  const dryRun = () =>
    action.run(async () => {
      setApplied(undefined);
      setPlan(
        await api.post<Plan>('/remediation/plan', {
          integrationId: props.integrationId,
          target: props.target,
        }),
      );
    });
  const apply = () =>
    action.run(async () => {
      if (!plan) return;
      const answer = await api.post<Applied>('/remediation/apply', { planId: plan.planId });
      setApplied(answer);
      setPlan(undefined);
      const done = answer.results.filter((r) => r.result === 'done').length;
      return `${done} of ${answer.results.length} changes made.`;
    });
  return (
    <div className="card-form remediate">
      <h3>Remediate</h3>
      <button type="button" onClick={() => void dryRun()} disabled={action.busy}>
        {props.label} (dry run)
      </button>
      <ErrorBox error={action.error} />
      <Notice>{action.notice}</Notice>
      {plan ? (
        <>
          <Table
            caption={`Plan ${plan.planId}: nothing has changed yet`}
            rows={plan.actions}
            rowKey={(a) => a.permissionId}
            empty="Nothing to remove."
            columns={[
              { key: 'what', label: 'Would remove', render: (a) => a.description },
              { key: 'why', label: 'Why', render: (a) => a.reason },
            ]}
          />
          {plan.changes.length ? (
            <ul>
              {plan.changes.map((c) => (
                <li key={c.property}>
                  {c.property}: {text(c.before)} → {text(c.after)}
                </li>
              ))}
            </ul>
          ) : null}
          {plan.notes.map((n) => (
            <p key={n} className="muted">
              {n}
            </p>
          ))}
          {plan.actions.length || plan.changes.length ? (
            <button type="button" className="danger" onClick={() => void apply()} disabled={action.busy}>
              Apply these {plan.actions.length + plan.changes.length} changes in the tenant
            </button>
          ) : null}
        </>
      ) : null}
      {applied ? (
        <>
          <Table
            caption="Results"
            rows={applied.results}
            rowKey={(r, i) => `${r.permissionId}-${i}`}
            columns={[
              { key: 'path', label: 'Item', render: (r) => r.itemPath ?? '—' },
              { key: 'result', label: 'Result', render: (r) => r.result },
              { key: 'http', label: 'Graph', render: (r) => r.httpStatus ?? '—' },
              { key: 'error', label: 'Error', render: (r) => r.error ?? '—' },
            ]}
          />
          <p>
            <Link to={`/remediation?planId=${applied.planId}`}>In the remediation trail</Link>
          </p>
        </>
      ) : null}
    </div>
  );
}
