import { type FormEvent, useMemo } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { queryString, rowPath } from '../api.ts';
import { ago, when } from '../format.ts';
import { type Column, ErrorBox, Field, Loading, Pager, Severity, Table, useApi, usePaged } from '../ui.tsx';
import type { FindingRow } from './Findings.tsx';

interface AuditEvent {
  integrationId: string;
  id: string;
  time: string;
  operation: string;
  actor: string | null;
  clientIp: string | null;
  driveId: string | null;
  itemId: string | null;
  fileName: string | null;
  objectUrl: string | null;
  target: string | null;
  linkScope: string | null;
}

const dayStart = (d: string | null) => (d ? new Date(`${d}T00:00:00Z`).toISOString() : undefined);
const dayEnd = (d: string | null) => (d ? new Date(`${d}T23:59:59.999Z`).toISOString() : undefined);

/** The columns of an event list; `skip` leaves out the one the list is about. */
function eventColumns(skip?: 'actor' | 'item'): Column<AuditEvent>[] {
  const columns: Column<AuditEvent>[] = [
    { key: 'time', label: 'When', render: (e) => when(e.time) },
    { key: 'op', label: 'Operation', render: (e) => e.operation },
    {
      key: 'actor',
      label: 'Who',
      render: (e) =>
        e.actor ? <Link to={`/activity?${new URLSearchParams({ upn: e.actor })}`}>{e.actor}</Link> : '—',
    },
    { key: 'ip', label: 'Client IP', render: (e) => e.clientIp ?? '—' },
    {
      key: 'item',
      label: 'Item',
      render: (e) =>
        e.itemId ? (
          <Link to={`/inventory/items/${rowPath(e.integrationId, e.itemId)}`}>{e.fileName ?? e.itemId}</Link>
        ) : (
          <span className="path">{e.fileName ?? e.objectUrl ?? '—'}</span>
        ),
    },
    {
      key: 'target',
      label: 'Shared with',
      render: (e) => [e.target, e.linkScope && `${e.linkScope} link`].filter(Boolean).join(' · ') || '—',
    },
  ];
  return columns.filter((c) => c.key !== skip);
}

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
        from: dayStart(params.get('from')),
        to: dayEnd(params.get('to')),
        limit: 25,
      })}`,
    [params],
  );
  const events = usePaged<AuditEvent>(eventsBase);
  const user = usePaged<AuditEvent>(upn ? `/activity/users/${encodeURIComponent(upn)}?limit=25` : null);
  const item = usePaged<AuditEvent>(
    itemIntegration && itemId ? `/activity/items/${rowPath(itemIntegration, itemId)}?limit=25` : null,
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
        caption="Open findings of the behaviour detectors"
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

      <h2>User timeline</h2>
      <form className="inline-form" aria-label="user timeline" onSubmit={apply(['upn'])} key={`u-${upn}`}>
        <Field label="User (sign-in name)">
          {(id) => <input id={id} name="upn" defaultValue={upn} placeholder="adele@contoso.com" />}
        </Field>
        <button type="submit">Show timeline</button>
      </form>
      {upn ? (
        <>
          <ErrorBox error={user.error} />
          <Loading when={user.loading && !user.data} />
          <Table
            rows={user.data?.items}
            rowKey={(e) => `${e.integrationId}/${e.id}`}
            columns={eventColumns('actor')}
            caption={`Activity of ${upn}`}
            empty="No activity recorded for this user."
          />
          <Pager {...user} label="timeline pages" />
        </>
      ) : null}

      <h2>Item access history</h2>
      <form
        className="inline-form"
        aria-label="item access history"
        onSubmit={apply(['itemIntegration', 'itemId'])}
        key={`i-${itemIntegration}-${itemId}`}
      >
        <Field label="Integration id">
          {(id) => <input id={id} name="itemIntegration" defaultValue={itemIntegration} />}
        </Field>
        <Field label="Item id">{(id) => <input id={id} name="itemId" defaultValue={itemId} />}</Field>
        <button type="submit">Show history</button>
      </form>
      {itemId ? (
        <>
          <ErrorBox error={item.error} />
          <Table
            rows={item.data?.items}
            rowKey={(e) => `${e.integrationId}/${e.id}`}
            columns={eventColumns('item')}
            caption="Accesses of the item"
            empty="No access recorded for this item."
          />
          <Pager {...item} label="access history pages" />
        </>
      ) : null}

      <h2>Audit events</h2>
      <form
        className="filters"
        aria-label="filter audit events"
        onSubmit={apply(['operation', 'actor', 'ip', 'from', 'to'])}
        key={`e-${eventsBase}`}
      >
        <Field label="Operations">
          {(id) => (
            <input
              id={id}
              name="operation"
              defaultValue={get('operation')}
              placeholder="FileDownloaded,SharingSet"
            />
          )}
        </Field>
        <Field label="Actor">{(id) => <input id={id} name="actor" defaultValue={get('actor')} />}</Field>
        <Field label="Client IP">{(id) => <input id={id} name="ip" defaultValue={get('ip')} />}</Field>
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
      <Table
        rows={events.data?.items}
        rowKey={(e) => `${e.integrationId}/${e.id}`}
        columns={eventColumns()}
        caption="Audit events, newest first"
        empty="No audit events match."
      />
      <Pager {...events} label="event pages" />
    </section>
  );
}
