import { type FormEvent, useEffect, useMemo, useState } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router-dom';
import { api, queryString } from '../api.ts';
import { count, text } from '../format.ts';
import { useIsAdmin } from '../session.tsx';
import { highlight } from '../sql-editor.tsx';
import { ErrorBox, Field, Loading, Notice, Severity, Table, useAction, useApi } from '../ui.tsx';
import type { FindingRow } from './Findings.tsx';

interface RuleRow {
  id: string;
  title: string;
  severity: string;
  resourceType: string;
  tags: string[];
  frameworks: string[];
  enabled: boolean;
  openFindings: number;
  source: string;
}
interface RuleParameter {
  type: string;
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
  sql: string;
  parameters: Record<string, RuleParameter> | (RuleParameter & { name: string })[];
}

type RulesAnswer = RuleRow[] | { items: RuleRow[] };
const rowsOf = (a: RulesAnswer | undefined) => (a === undefined ? undefined : Array.isArray(a) ? a : a.items);

export function RulesPage() {
  const [params, setParams] = useSearchParams();
  const isAdmin = useIsAdmin();
  const path = useMemo(
    () =>
      `/rules${queryString({
        q: params.get('q'),
        severity: params.get('severity'),
        pack: params.get('pack'),
        enabled: params.get('enabled'),
      })}`,
    [params],
  );
  const rules = useApi<RulesAnswer>(path);
  const toggle = useAction();
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const next = new URLSearchParams();
    for (const k of ['q', 'severity', 'pack', 'enabled']) {
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
        <div className="filter-actions">
          <button type="submit" className="primary">
            Apply filters
          </button>
        </div>
      </form>
      <ErrorBox error={rules.error ?? toggle.error} />
      <Loading when={rules.loading && !rules.data} />
      <Table
        rows={rowsOf(rules.data)}
        rowKey={(r) => r.id}
        empty="No rules match."
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
          { key: 'fw', label: 'Frameworks', render: (r) => (r.frameworks ?? []).join(', ') || '—' },
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
    </section>
  );
}

function parameterList(p: RuleDetails['parameters'] | undefined): (RuleParameter & { name: string })[] {
  if (!p) return [];
  return Array.isArray(p) ? p : Object.entries(p).map(([name, v]) => ({ name, ...v }));
}

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
  const params = parameterList(r?.parameters);
  useEffect(() => {
    if (r)
      setValues(
        Object.fromEntries(parameterList(r.parameters).map((p) => [p.name, text(p.value ?? p.default)])),
      );
  }, [r]);

  const saveParameters = () =>
    save.run(async () => {
      const parsed: Record<string, unknown> = {};
      for (const p of params) {
        const raw = values[p.name] ?? '';
        parsed[p.name] =
          p.type === 'integer' || p.type === 'number'
            ? Number(raw)
            : p.type === 'boolean'
              ? raw === 'true'
              : p.type === 'string_list'
                ? raw.startsWith('[')
                  ? JSON.parse(raw)
                  : raw
                      .split(',')
                      .map((s) => s.trim())
                      .filter(Boolean)
                : raw;
      }
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
          </p>
          <h2>What it checks</h2>
          <p>{r.description}</p>
          <h2>Risk</h2>
          <p>{r.risk}</p>
          <h2>Remediation</h2>
          <p>{r.remediation}</p>
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
          {isAdmin && r.source?.startsWith('custom') ? (
            <>
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
            </>
          ) : null}
        </>
      ) : null}
    </section>
  );
}

const YAML_TEMPLATE = `id: item_example_check
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
  const [yaml, setYaml] = useState(YAML_TEMPLATE);
  const [sql, setSql] = useState(SQL_TEMPLATE);
  const action = useAction();
  const navigate = useNavigate();
  return (
    <section>
      <p>
        <Link to="/rules">← Rules</Link>
      </p>
      <h1>New custom rule</h1>
      <p className="muted">
        A rule is its definition (rule.yaml) and a read-only query returning <code>resource_id</code>,{' '}
        <code>status</code> (ok, alarm or error) and <code>reason</code>. The server validates both when you
        save.
      </p>
      <form
        aria-label="custom rule"
        onSubmit={(e) => {
          e.preventDefault();
          void action.run(async () => {
            const saved = await api.post<{ id?: string; rule?: { id: string } }>('/rules/custom', {
              yaml,
              sql,
            });
            const id = saved?.rule?.id ?? saved?.id;
            if (id) navigate(`/rules/${encodeURIComponent(id)}`);
            return 'Saved.';
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
    </section>
  );
}
