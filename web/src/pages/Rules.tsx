import { type FormEvent, useEffect, useMemo, useState } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router-dom';
import { api, queryString } from '../api.ts';
import { count, text } from '../format.ts';
import { useIsAdmin } from '../session.tsx';
import { highlight } from '../sql-editor.tsx';
import {
  ErrorBox,
  Field,
  Loading,
  Notice,
  Pager,
  Severity,
  Table,
  useAction,
  useApi,
  usePaged,
} from '../ui.tsx';
import type { FindingRow } from './Findings.tsx';

interface RuleRow {
  id: string;
  title: string;
  severity: string;
  resourceType: string;
  tags: string[];
  frameworks: { packId: string; packTitle: string; controlId: string; controlTitle: string }[];
  enabled: boolean;
  disabledFor?: string[];
  openFindings: number;
  source: 'builtin' | 'folder' | 'saved';
}
interface RuleParameter {
  name: string;
  type: 'integer' | 'number' | 'string' | 'boolean' | 'string_list';
  description: string;
  default: unknown;
  value?: unknown;
  min?: number;
  max?: number;
}
interface RuleDetails extends RuleRow {
  description: string;
  risk: string;
  remediation: string;
  requires?: string[];
  sql: string;
  yaml?: string | null;
  parameters: RuleParameter[];
  findings?: { open: number; suppressed: number; resolved: number };
}
interface SavedRule {
  id: string;
  replaced: boolean;
  checks: {
    integrationId: string | null;
    ok: number;
    alarm: number;
    error: number;
    samples: { status: string; resourceId: string; resourcePath: string | null; reason: string }[];
  }[];
}

const RULE_FILTERS = ['q', 'severity', 'pack', 'enabled', 'source'] as const;

export function RulesPage() {
  const [params, setParams] = useSearchParams();
  const isAdmin = useIsAdmin();
  const path = useMemo(() => {
    const f: Record<string, string | null | number> = { limit: 100 };
    for (const k of RULE_FILTERS) f[k] = params.get(k);
    return `/rules${queryString(f)}`;
  }, [params]);
  const rules = usePaged<RuleRow>(path);
  const toggle = useAction();
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const next = new URLSearchParams();
    for (const k of RULE_FILTERS) {
      const value = String(form.get(k) ?? '').trim();
      if (value) next.set(k, value);
    }
    setParams(next);
  };
  const v = (k: string) => params.get(k) ?? '';
  return (
    <section>
      <h1>Rules</h1>
      {isAdmin ? (
        <p>
          <Link to="/rules/new" className="button">
            New custom rule
          </Link>
        </p>
      ) : null}
      <form className="filters" onSubmit={submit} aria-label="filter rules" key={params.toString()}>
        <Field label="Search">{(id) => <input id={id} name="q" type="search" defaultValue={v('q')} />}</Field>
        <Field label="Severity">
          {(id) => (
            <select id={id} name="severity" defaultValue={v('severity')}>
              <option value="">any</option>
              {['critical', 'high', 'medium', 'low', 'info'].map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Pack">{(id) => <input id={id} name="pack" defaultValue={v('pack')} />}</Field>
        <Field label="Enabled">
          {(id) => (
            <select id={id} name="enabled" defaultValue={v('enabled')}>
              <option value="">any</option>
              <option value="true">enabled</option>
              <option value="false">disabled</option>
            </select>
          )}
        </Field>
        <Field label="Source">
          {(id) => (
            <select id={id} name="source" defaultValue={v('source')}>
              <option value="">any</option>
              <option value="builtin">built-in</option>
              <option value="folder">rule folders</option>
              <option value="saved">custom (saved)</option>
            </select>
          )}
        </Field>
        <div className="filter-actions">
          <button type="submit" className="primary">
            Apply filters
          </button>
        </div>
      </form>
      <ErrorBox error={rules.error ?? toggle.error} />
      <Loading when={rules.loading && !rules.data} />
      <Table
        rows={rules.data?.items}
        rowKey={(r) => r.id}
        empty="No rules match."
        caption="Rules"
        columns={[
          { key: 'sev', label: 'Severity', render: (r) => <Severity value={r.severity} /> },
          {
            key: 'title',
            label: 'Rule',
            render: (r) => <Link to={`/rules/${encodeURIComponent(r.id)}`}>{r.title}</Link>,
          },
          { key: 'type', label: 'Resource', render: (r) => r.resourceType },
          {
            key: 'open',
            label: 'Open findings',
            className: 'num',
            render: (r) => (
              <Link to={`/findings?status=open&ruleId=${encodeURIComponent(r.id)}`}>
                {count(r.openFindings)}
              </Link>
            ),
          },
          {
            key: 'fw',
            label: 'Packs',
            render: (r) => [...new Set(r.frameworks.map((f) => f.packTitle))].join(', ') || '—',
          },
          { key: 'source', label: 'Source', render: (r) => r.source },
          {
            key: 'enabled',
            label: 'Enabled',
            render: (r) =>
              isAdmin ? (
                <input
                  type="checkbox"
                  aria-label={`rule ${r.id} enabled`}
                  checked={r.enabled}
                  disabled={toggle.busy}
                  onChange={(e) => {
                    const enabled = e.target.checked;
                    void toggle.run(async () => {
                      await api.patch(`/rules/${encodeURIComponent(r.id)}`, { enabled });
                      rules.reload();
                    });
                  }}
                />
              ) : r.enabled ? (
                'yes'
              ) : (
                'no'
              ),
          },
        ]}
      />
      <Pager {...rules} label="rule pages" />
    </section>
  );
}

/** A parameter's text in the form back to the type the rule declares. */
function parseParameter(p: RuleParameter, raw: string): unknown {
  if (p.type === 'integer' || p.type === 'number') return raw.trim() === '' ? null : Number(raw);
  if (p.type === 'boolean') return raw.trim() === 'true';
  if (p.type === 'string_list')
    return raw.trim().startsWith('[')
      ? JSON.parse(raw)
      : raw
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
  return raw;
}

const paramText = (p: RuleParameter) => {
  const v = p.value ?? p.default;
  return Array.isArray(v) ? v.join(', ') : text(v);
};

export function RulePage() {
  const { id = '' } = useParams();
  const isAdmin = useIsAdmin();
  const rule = useApi<RuleDetails>(`/rules/${encodeURIComponent(id)}`);
  const findings = useApi<{ items: FindingRow[] }>(
    `/findings${queryString({ ruleId: id, status: 'open', limit: 20 })}`,
  );
  const [values, setValues] = useState<Record<string, string>>({});
  const save = useAction();
  const remove = useAction();
  const navigate = useNavigate();
  const r = rule.data;
  const params = r?.parameters ?? [];
  useEffect(() => {
    if (r) setValues(Object.fromEntries(r.parameters.map((p) => [p.name, paramText(p)])));
  }, [r]);

  const saveParameters = () =>
    save.run(async () => {
      const parsed = Object.fromEntries(params.map((p) => [p.name, parseParameter(p, values[p.name] ?? '')]));
      await api.patch(`/rules/${encodeURIComponent(id)}`, { parameters: parsed });
      rule.reload();
      return 'Parameters saved.';
    });

  return (
    <section>
      <p>
        <Link to="/rules">← Rules</Link>
      </p>
      <ErrorBox error={rule.error} />
      <Loading when={rule.loading && !r} />
      {r ? (
        <>
          <h1>
            <Severity value={r.severity} /> {r.title}
          </h1>
          <p className="muted">
            <code>{r.id}</code> · {r.resourceType} · {r.enabled ? 'enabled' : 'disabled'} · {r.source}
            {r.findings
              ? ` · ${r.findings.open} open, ${r.findings.suppressed} suppressed, ${r.findings.resolved} resolved`
              : ''}
          </p>
          <h2>What it checks</h2>
          <p>{r.description}</p>
          <h2>Risk</h2>
          <p>{r.risk}</p>
          <h2>Remediation</h2>
          <p>{r.remediation}</p>
          {r.frameworks.length ? (
            <>
              <h2>Frameworks</h2>
              <ul>
                {r.frameworks.map((f) => (
                  <li key={`${f.packId}-${f.controlId}`}>
                    <Link to={`/packs/${encodeURIComponent(f.packId)}`}>{f.packTitle}</Link> {f.controlId}:{' '}
                    {f.controlTitle}
                  </li>
                ))}
              </ul>
            </>
          ) : null}
          <h2>SQL</h2>
          <pre className="sql-view">{highlight(r.sql, new Set())}</pre>
          <h2>Parameters</h2>
          {params.length === 0 ? <p className="muted">This rule has no parameters.</p> : null}
          {params.length ? (
            <form
              className="params"
              aria-label="rule parameters"
              onSubmit={(e) => {
                e.preventDefault();
                void saveParameters();
              }}
            >
              {params.map((p) => (
                <Field
                  key={p.name}
                  label={p.name}
                  hint={`${p.description} (${p.type}, default ${text(p.default)})`}
                >
                  {(fid) => (
                    <input
                      id={fid}
                      value={values[p.name] ?? ''}
                      readOnly={!isAdmin}
                      onChange={(e) => setValues((v) => ({ ...v, [p.name]: e.target.value }))}
                    />
                  )}
                </Field>
              ))}
              {isAdmin ? (
                <button type="submit" disabled={save.busy}>
                  Save parameters
                </button>
              ) : null}
            </form>
          ) : null}
          <ErrorBox error={save.error} />
          <Notice>{save.notice}</Notice>
          <h2>Open findings</h2>
          <ErrorBox error={findings.error} />
          <Table
            rows={findings.data?.items}
            rowKey={(f) => String(f.id)}
            empty="No open findings."
            columns={[
              { key: 'sev', label: 'Severity', render: (f) => <Severity value={f.severity} /> },
              {
                key: 'resource',
                label: 'Resource',
                render: (f) => (
                  <Link to={`/findings/${f.id}`}>{f.resourcePath ?? f.resourceName ?? f.resourceId}</Link>
                ),
              },
              { key: 'message', label: 'Message', render: (f) => f.message },
            ]}
          />
          <p>
            <Link to={`/findings?ruleId=${encodeURIComponent(r.id)}`}>All findings of this rule</Link>
          </p>
          {isAdmin && r.source === 'saved' ? (
            <div className="actions">
              <Link className="button" to={`/rules/new?edit=${encodeURIComponent(r.id)}`}>
                Edit custom rule
              </Link>
              <button
                type="button"
                className="danger"
                disabled={remove.busy}
                onClick={() =>
                  void remove.run(async () => {
                    await api.delete(`/rules/custom/${encodeURIComponent(r.id)}`);
                    navigate('/rules');
                  })
                }
              >
                Delete custom rule
              </button>
              <ErrorBox error={remove.error} />
            </div>
          ) : null}
        </>
      ) : null}
    </section>
  );
}

const YAML_TEMPLATE = `id: drive_item_example_small
title: Example custom rule
severity: medium
resource_type: drive_item
description: What the rule checks.
risk: Why it matters.
remediation: What to do about it.
tags: [custom]
requires: [drive_item]
`;
const SQL_TEMPLATE = `select id as resource_id,
  case when size > 100000000 then 'alarm' else 'ok' end as status,
  'size ' || size as reason
from drive_items
where integration_id = :integration_id and deleted_at is null
`;

export function CustomRulePage() {
  const [params] = useSearchParams();
  const editing = params.get('edit');
  const existing = useApi<RuleDetails>(editing ? `/rules/${encodeURIComponent(editing)}` : null);
  const [yaml, setYaml] = useState(YAML_TEMPLATE);
  const [sql, setSql] = useState(SQL_TEMPLATE);
  const [saved, setSaved] = useState<SavedRule | undefined>(undefined);
  const action = useAction();
  useEffect(() => {
    if (existing.data) {
      setYaml(existing.data.yaml ?? '');
      setSql(existing.data.sql);
    }
  }, [existing.data]);
  return (
    <section>
      <p>
        <Link to="/rules">← Rules</Link>
      </p>
      <h1>{editing ? `Edit ${editing}` : 'New custom rule'}</h1>
      <p className="muted">
        A rule is its definition (rule.yaml) and a read-only query returning <code>resource_id</code>,{' '}
        <code>status</code> (ok, alarm or error) and <code>reason</code>. The server validates both and runs
        the query once on the inventory when you save.
      </p>
      <ErrorBox error={existing.error} />
      <form
        aria-label="custom rule"
        onSubmit={(e) => {
          e.preventDefault();
          void action.run(async () => {
            setSaved(undefined);
            const answer = await api.post<SavedRule>('/rules/custom', {
              yaml,
              sql,
              replace: Boolean(editing),
            });
            setSaved(answer);
            return `Saved ${answer.id}${answer.replaced ? ' (replaced)' : ''}.`;
          });
        }}
      >
        <Field label="Definition (rule.yaml)">
          {(id) => (
            <textarea
              id={id}
              className="code"
              rows={12}
              value={yaml}
              spellCheck={false}
              onChange={(e) => setYaml(e.target.value)}
            />
          )}
        </Field>
        <Field label="Query (rule.sql)">
          {(id) => (
            <textarea
              id={id}
              className="code"
              rows={10}
              value={sql}
              spellCheck={false}
              onChange={(e) => setSql(e.target.value)}
            />
          )}
        </Field>
        <ErrorBox error={action.error} />
        <Notice>{action.notice}</Notice>
        <button type="submit" className="primary" disabled={action.busy}>
          Validate and save
        </button>
      </form>
      {saved ? (
        <>
          <h2>Dry run</h2>
          <Table
            rows={saved.checks}
            rowKey={(c, i) => `${c.integrationId}-${i}`}
            empty="No integration to run it on yet."
            columns={[
              { key: 'int', label: 'Integration', render: (c) => c.integrationId ?? '—' },
              { key: 'ok', label: 'ok', render: (c) => count(c.ok), className: 'num' },
              { key: 'alarm', label: 'alarm', render: (c) => count(c.alarm), className: 'num' },
              { key: 'error', label: 'error', render: (c) => count(c.error), className: 'num' },
              {
                key: 'samples',
                label: 'Samples',
                render: (c) =>
                  c.samples
                    .slice(0, 3)
                    .map((s) => `${s.status}: ${s.resourcePath ?? s.resourceId} (${s.reason})`)
                    .join('; '),
              },
            ]}
          />
          <p>
            <Link to={`/rules/${encodeURIComponent(saved.id)}`}>Open the rule</Link>
          </p>
        </>
      ) : null}
    </section>
  );
}
