import { type FormEvent, useMemo, useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { queryString } from '../api.ts';
import { ago } from '../format.ts';
import { useLiveEvents } from '../live.ts';
import { ErrorBox, Field, Loading, Pager, Severity, Table, useApi, usePaged, useThrottled } from '../ui.tsx';

export interface FindingRow {
  id: number;
  ruleId: string;
  ruleTitle: string;
  source?: 'rule' | 'detector';
  severity: string;
  status: string;
  result?: 'alarm' | 'error';
  integrationId: string;
  resourceType: string;
  resourceId: string;
  driveId?: string | null;
  itemId?: string | null;
  resourceName: string | null;
  resourcePath: string | null;
  resourceOwner: string | null;
  message: string;
  firstSeenAt: string;
  lastSeenAt: string;
  resolvedAt: string | null;
  suppression: {
    id?: number;
    reason: string;
    actor?: string;
    createdAt?: string;
    expiresAt: string | null;
    ruleWide?: boolean;
  } | null;
}

const FILTERS = ['status', 'severity', 'ruleId', 'pack', 'integrationId', 'q', 'source', 'sort'] as const;

export function FindingsPage() {
  const [params, setParams] = useSearchParams();
  const base = useMemo(() => {
    const f: Record<string, string | undefined> = { limit: '50' };
    for (const k of FILTERS) f[k] = params.get(k) ?? undefined;
    return `/findings${queryString(f)}`;
  }, [params]);
  const list = usePaged<FindingRow>(base);
  // The choices of the filters.
  const rules = useApi<{ items: { id: string; title: string }[] }>('/rules?limit=500');
  const packs = useApi<{ items: { id: string; title: string }[] }>('/packs');
  const integrations = useApi<{ items: { id: string; name: string }[] }>('/integrations?limit=100');
  const [fresh, setFresh] = useState<Set<number>>(new Set());
  const reloadSoon = useThrottled(list.reload, 400);
  // New findings appear without a reload: page 1 is read again when the server reports one.
  useLiveEvents((message) => {
    if (message.type !== 'finding') return;
    setFresh((s) => new Set(s).add(Number(message.data.findingId)));
    if (!list.hasPrev) reloadSoon();
  });

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const next = new URLSearchParams();
    for (const k of FILTERS) {
      const value = String(form.get(k) ?? '').trim();
      if (value) next.set(k, value);
    }
    setParams(next);
  };
  const v = (k: string) => params.get(k) ?? '';

  return (
    <section>
      <h1>Findings</h1>
      <form className="filters" onSubmit={submit} aria-label="filter findings" key={params.toString()}>
        <Field label="Search">{(id) => <input id={id} name="q" type="search" defaultValue={v('q')} />}</Field>
        <Field label="Status">
          {(id) => (
            <select id={id} name="status" defaultValue={v('status')}>
              <option value="">any</option>
              <option value="open">open</option>
              <option value="suppressed">suppressed</option>
              <option value="resolved">resolved</option>
            </select>
          )}
        </Field>
        <Field label="Severity">
          {(id) => (
            <select id={id} name="severity" defaultValue={v('severity')}>
              <option value="">any</option>
              <option value="critical">critical</option>
              <option value="high,critical">high and above</option>
              <option value="high">high</option>
              <option value="medium">medium</option>
              <option value="low">low</option>
              <option value="info">info</option>
            </select>
          )}
        </Field>
        <Field label="Rule">
          {(id) => (
            <>
              <input
                id={id}
                name="ruleId"
                defaultValue={v('ruleId')}
                placeholder="rule id"
                list={`${id}-rules`}
              />
              <datalist id={`${id}-rules`}>
                {(rules.data?.items ?? []).map((r) => (
                  <option key={r.id} value={r.id}>
                    {r.title}
                  </option>
                ))}
              </datalist>
            </>
          )}
        </Field>
        <Field label="Pack">
          {(id) => (
            <select id={id} name="pack" defaultValue={v('pack')}>
              <option value="">any</option>
              {(packs.data?.items ?? []).map((p) => (
                <option key={p.id} value={p.id}>
                  {p.title}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Integration">
          {(id) => (
            <select id={id} name="integrationId" defaultValue={v('integrationId')}>
              <option value="">any</option>
              {(integrations.data?.items ?? []).map((i) => (
                <option key={i.id} value={i.id}>
                  {i.name}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Source">
          {(id) => (
            <select id={id} name="source" defaultValue={v('source')}>
              <option value="">rules and detectors</option>
              <option value="rule">rules</option>
              <option value="detector">anomaly detectors</option>
            </select>
          )}
        </Field>
        <Field label="Sort by">
          {(id) => (
            <select id={id} name="sort" defaultValue={v('sort')}>
              <option value="">default</option>
              <option value="-lastSeen">last seen (newest first)</option>
              <option value="-firstSeen">first seen (newest first)</option>
              <option value="lastSeen">last seen (oldest first)</option>
              <option value="-severity">severity (highest first)</option>
              <option value="-id">newest findings first</option>
            </select>
          )}
        </Field>
        <div className="filter-actions">
          <button type="submit" className="primary">
            Apply filters
          </button>
          <button type="button" onClick={() => setParams(new URLSearchParams())}>
            Clear
          </button>
        </div>
      </form>
      <ErrorBox error={list.error} />
      <Loading when={list.loading && !list.data} />
      <Table
        rows={list.data?.items}
        rowKey={(f) => String(f.id)}
        empty="No findings match."
        caption="Findings"
        columns={[
          { key: 'sev', label: 'Severity', render: (f) => <Severity value={f.severity} /> },
          {
            key: 'finding',
            label: 'Finding',
            render: (f) => (
              <>
                <Link to={`/findings/${f.id}`}>{f.ruleTitle}</Link>
                {fresh.has(f.id) ? <span className="badge new"> new</span> : null}
              </>
            ),
          },
          {
            key: 'resource',
            label: 'Resource',
            render: (f) => <span className="path">{f.resourcePath ?? f.resourceName ?? f.resourceId}</span>,
          },
          { key: 'owner', label: 'Owner', render: (f) => f.resourceOwner ?? '—' },
          { key: 'status', label: 'Status', render: (f) => f.status },
          { key: 'last', label: 'Last seen', render: (f) => ago(f.lastSeenAt) },
        ]}
      />
      <Pager {...list} label="finding pages" />
    </section>
  );
}
