import { type FormEvent, useMemo } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { queryString, rowPath } from '../api.ts';
import { ago } from '../format.ts';
import { AutoTable, ErrorBox, Field, Loading, Pager, Severity, Table, useApi, usePaged } from '../ui.tsx';
import type { FindingRow } from './Findings.tsx';

type Row = Record<string, unknown>;
type Listing = Row[] | { items: Row[]; nextCursor?: string | null } | { events: Row[] };
const rowsOf = (a: Listing | undefined): Row[] | undefined =>
  a === undefined ? undefined : Array.isArray(a) ? a : 'items' in a ? a.items : a.events;

const EVENT_COLUMNS = [
  'at',
  'operation',
  'actor',
  'userId',
  'itemName',
  'objectId',
  'clientIp',
  'ip',
  'workload',
];

export function ActivityPage() {
  const [params, setParams] = useSearchParams();
  const get = (k: string) => params.get(k) ?? '';
  const upn = get('upn');
  const itemIntegration = get('itemIntegration');
  const itemId = get('itemId');
  const eventsBase = useMemo(
    () =>
      `/activity/events${queryString({
        operation: params.get('operation'),
        actor: params.get('actor'),
        ip: params.get('ip'),
        from: params.get('from') ? new Date(`${params.get('from')}T00:00:00Z`).toISOString() : undefined,
        to: params.get('to') ? new Date(`${params.get('to')}T23:59:59Z`).toISOString() : undefined,
        limit: 50,
      })}`,
    [params],
  );
  const events = usePaged<Row>(eventsBase);
  const user = useApi<Listing>(upn ? `/activity/users/${encodeURIComponent(upn)}` : null);
  const item = useApi<Listing>(
    itemIntegration && itemId ? `/activity/items/${rowPath(itemIntegration, itemId)}` : null,
  );
  const anomalies = useApi<{ items: FindingRow[] }>('/findings?source=detector&status=open&limit=20');

  const apply = (names: string[]) => (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const next = new URLSearchParams(params);
    for (const n of names) {
      const value = String(form.get(n) ?? '').trim();
      if (value) next.set(n, value);
      else next.delete(n);
    }
    setParams(next);
  };

  return (
    <section>
      <h1>Activity</h1>
      <h2>Anomalies</h2>
      <ErrorBox error={anomalies.error} />
      <Table
        rows={anomalies.data?.items}
        rowKey={(f) => String(f.id)}
        empty="No open anomaly findings."
        columns={[
          { key: 'sev', label: 'Severity', render: (f) => <Severity value={f.severity} /> },
          {
            key: 'what',
            label: 'Anomaly',
            render: (f) => <Link to={`/findings/${f.id}`}>{f.ruleTitle}</Link>,
          },
          { key: 'who', label: 'Subject', render: (f) => f.resourceName ?? f.resourceId },
          { key: 'msg', label: 'Evidence', render: (f) => f.message },
          { key: 'seen', label: 'Last seen', render: (f) => ago(f.lastSeenAt) },
        ]}
      />

      <div className="columns">
        <div>
          <h2>User timeline</h2>
          <form className="inline-form" aria-label="user timeline" onSubmit={apply(['upn'])} key={`u-${upn}`}>
            <Field label="User (sign-in name)">
              {(id) => <input id={id} name="upn" defaultValue={upn} placeholder="adele@contoso.com" />}
            </Field>
            <button type="submit">Show timeline</button>
          </form>
          <ErrorBox error={user.error} />
          <Loading when={user.loading && Boolean(upn)} />
          {upn ? (
            <AutoTable rows={rowsOf(user.data)} preferred={EVENT_COLUMNS} empty="No activity recorded." />
          ) : null}
        </div>
        <div>
          <h2>Item access history</h2>
          <form
            className="inline-form"
            aria-label="item access history"
            onSubmit={apply(['itemIntegration', 'itemId'])}
            key={`i-${itemId}`}
          >
            <Field label="Integration id">
              {(id) => <input id={id} name="itemIntegration" defaultValue={itemIntegration} />}
            </Field>
            <Field label="Item id">{(id) => <input id={id} name="itemId" defaultValue={itemId} />}</Field>
            <button type="submit">Show history</button>
          </form>
          <ErrorBox error={item.error} />
          {itemId ? (
            <AutoTable rows={rowsOf(item.data)} preferred={EVENT_COLUMNS} empty="No access recorded." />
          ) : null}
        </div>
      </div>

      <h2>Audit events</h2>
      <form
        className="filters"
        aria-label="filter audit events"
        onSubmit={apply(['operation', 'actor', 'ip', 'from', 'to'])}
        key={`e-${eventsBase}`}
      >
        <Field label="Operation">
          {(id) => (
            <input id={id} name="operation" defaultValue={get('operation')} placeholder="FileDownloaded" />
          )}
        </Field>
        <Field label="Actor">{(id) => <input id={id} name="actor" defaultValue={get('actor')} />}</Field>
        <Field label="IP address">{(id) => <input id={id} name="ip" defaultValue={get('ip')} />}</Field>
        <Field label="From">
          {(id) => <input id={id} name="from" type="date" defaultValue={get('from')} />}
        </Field>
        <Field label="To">{(id) => <input id={id} name="to" type="date" defaultValue={get('to')} />}</Field>
        <div className="filter-actions">
          <button type="submit" className="primary">
            Apply filters
          </button>
        </div>
      </form>
      <ErrorBox error={events.error} />
      <Loading when={events.loading && !events.data} />
      <AutoTable rows={events.data?.items} preferred={EVENT_COLUMNS} empty="No audit events match." />
      <Pager {...events} label="event pages" />
    </section>
  );
}
