import { type FormEvent, useState } from 'react';
import { useSearchParams } from 'react-router-dom';
import { api } from '../api.ts';
import { ago, count, text } from '../format.ts';
import { useLiveEvents } from '../live.ts';
import { useIsAdmin } from '../session.tsx';
import { AutoTable, ErrorBox, Field, Loading, Notice, Table, useAction, useApi } from '../ui.tsx';

interface Integration {
  id: string;
  name: string;
  tenantId: string;
  enabled: boolean;
  status: string;
  lastSyncAt: string | null;
  items: number | null;
  drives: number | null;
  lastError: string | null;
}
interface ProbeRow {
  permission: string;
  granted: boolean | string;
  unlocks: string | string[];
}
const listOf = <T,>(a: T[] | { items: T[] } | undefined) =>
  a === undefined ? undefined : Array.isArray(a) ? a : a.items;

export function IntegrationsPage() {
  const isAdmin = useIsAdmin();
  const [params] = useSearchParams();
  const list = useApi<Integration[] | { items: Integration[] }>('/integrations');
  const [probe, setProbe] = useState<{ name: string; rows: ProbeRow[] } | undefined>(undefined);
  const [purge, setPurge] = useState<{ integration: Integration; preview: unknown } | undefined>(undefined);
  const action = useAction();
  // Sync progress arrives live: the list (status, last sync, counts) is read again.
  useLiveEvents((m) => {
    if (m.type === 'sync' || m.type === 'changes') list.reload();
  });
  const rows = listOf(list.data);
  const connected = params.get('connected');
  const connectError = params.get('error');

  const connect = () =>
    action.run(async () => {
      const { redirectUrl } = await api.get<{ redirectUrl: string }>('/connect/microsoft/start');
      window.location.assign(redirectUrl);
    });
  const post = (i: Integration, verb: 'probe' | 'disable' | 'enable') =>
    action.run(async () => {
      const answer = await api.post<{ probe?: ProbeRow[] } | ProbeRow[]>(
        `/integrations/${encodeURIComponent(i.id)}/${verb}`,
      );
      if (verb === 'probe') {
        const rows = Array.isArray(answer) ? answer : (answer?.probe ?? []);
        setProbe({ name: i.name, rows });
      }
      list.reload();
      return `${i.name}: ${verb === 'probe' ? 'probed' : `${verb}d`}.`;
    });
  const previewPurge = (i: Integration) =>
    action.run(async () => {
      setPurge({
        integration: i,
        preview: await api.get(`/integrations/${encodeURIComponent(i.id)}/purge-preview`),
      });
    });

  return (
    <section>
      <h1>Integrations</h1>
      {connected ? <Notice>Connected tenant {connected}: its inventory is being collected.</Notice> : null}
      {connectError ? <ErrorBox error={new Error(connectError)} /> : null}
      <ErrorBox error={list.error} />
      <Loading when={list.loading && !rows} />
      <Table
        rows={rows}
        rowKey={(i) => i.id}
        empty="No integrations yet."
        caption="Connected tenants"
        columns={[
          { key: 'name', label: 'Name', render: (i) => i.name },
          { key: 'tenant', label: 'Tenant', render: (i) => <code>{i.tenantId}</code> },
          {
            key: 'status',
            label: 'Status',
            render: (i) => <span className={`status status-${i.status}`}>{i.status}</span>,
          },
          { key: 'last', label: 'Last sync', render: (i) => ago(i.lastSyncAt) },
          { key: 'items', label: 'Items', render: (i) => count(i.items), className: 'num' },
          { key: 'drives', label: 'Drives', render: (i) => count(i.drives), className: 'num' },
          { key: 'error', label: 'Last error', render: (i) => i.lastError ?? '—' },
          ...(isAdmin
            ? [
                {
                  key: 'actions',
                  label: 'Actions',
                  render: (i: Integration) => (
                    <span className="row-actions">
                      <button type="button" onClick={() => void post(i, 'probe')} disabled={action.busy}>
                        Probe
                      </button>
                      <button
                        type="button"
                        onClick={() => void post(i, i.enabled ? 'disable' : 'enable')}
                        disabled={action.busy}
                      >
                        {i.enabled ? 'Disable' : 'Enable'}
                      </button>
                      <button
                        type="button"
                        className="danger"
                        onClick={() => void previewPurge(i)}
                        disabled={action.busy}
                      >
                        Delete…
                      </button>
                    </span>
                  ),
                },
              ]
            : []),
        ]}
      />
      <ErrorBox error={action.error} />
      <Notice>{action.notice}</Notice>
      {probe ? <ProbeTable title={`Permissions of ${probe.name}`} rows={probe.rows} /> : null}
      {purge ? (
        <ConfirmDelete
          integration={purge.integration}
          preview={purge.preview}
          onDone={() => {
            setPurge(undefined);
            list.reload();
          }}
        />
      ) : null}
      {isAdmin ? (
        <div className="columns">
          <AddIntegration onAdded={list.reload} />
          <div className="card-form">
            <h2>Connect with Microsoft</h2>
            <p>
              Sign in as a global administrator of the tenant and grant drivewarden's application its read
              permissions. You come back here with the tenant connected.
            </p>
            <button
              type="button"
              className="primary ms"
              onClick={() => void connect()}
              disabled={action.busy}
            >
              Connect with Microsoft
            </button>
          </div>
        </div>
      ) : null}
    </section>
  );
}

function ProbeTable({ title, rows }: { title: string; rows: ProbeRow[] }) {
  return (
    <Table
      caption={title}
      rows={rows}
      rowKey={(r) => r.permission}
      columns={[
        { key: 'permission', label: 'Permission', render: (r) => <code>{r.permission}</code> },
        {
          key: 'granted',
          label: 'Granted',
          render: (r) => {
            const ok = r.granted === true || r.granted === 'granted';
            return (
              <span className={ok ? 'ok' : 'bad'}>
                {typeof r.granted === 'string' ? r.granted : ok ? 'granted' : 'missing'}
              </span>
            );
          },
        },
        {
          key: 'unlocks',
          label: 'What it unlocks',
          render: (r) => (Array.isArray(r.unlocks) ? r.unlocks.join(', ') : r.unlocks),
        },
      ]}
    />
  );
}

function AddIntegration({ onAdded }: { onAdded: () => void }) {
  const action = useAction();
  const [probe, setProbe] = useState<ProbeRow[] | undefined>(undefined);
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    const value = (k: string) => String(data.get(k) ?? '').trim();
    void action.run(async () => {
      setProbe(undefined);
      const answer = await api.post<{ integration: Integration; probe: ProbeRow[] }>('/integrations', {
        name: value('name'),
        tenantId: value('tenantId'),
        clientId: value('clientId'),
        clientSecret: value('clientSecret'),
      });
      setProbe(answer.probe);
      form.reset();
      onAdded();
      return `Added ${answer.integration.name}: collecting its inventory now.`;
    });
  };
  return (
    <form className="card-form" onSubmit={submit} aria-label="add integration">
      <h2>Add with credentials</h2>
      <p className="muted">
        An app registration in the tenant with Graph application permissions (Files.Read.All, …).
      </p>
      <Field label="Name">{(id) => <input id={id} name="name" required />}</Field>
      <Field label="Tenant id">{(id) => <input id={id} name="tenantId" required autoComplete="off" />}</Field>
      <Field label="Client id">{(id) => <input id={id} name="clientId" required autoComplete="off" />}</Field>
      <Field label="Client secret" hint="Stored encrypted; never shown again.">
        {(id) => <input id={id} name="clientSecret" type="password" required autoComplete="off" />}
      </Field>
      <ErrorBox error={action.error} />
      <Notice>{action.notice}</Notice>
      <button type="submit" className="primary" disabled={action.busy}>
        {action.busy ? 'Connecting and probing…' : 'Add integration'}
      </button>
      {probe ? <ProbeTable title="Permission probe" rows={probe} /> : null}
    </form>
  );
}

function ConfirmDelete(props: { integration: Integration; preview: unknown; onDone: () => void }) {
  const [typed, setTyped] = useState('');
  const action = useAction();
  const preview = props.preview;
  const rows =
    preview && typeof preview === 'object' && !Array.isArray(preview)
      ? Object.entries(
          (preview as { counts?: Record<string, unknown> }).counts ?? (preview as Record<string, unknown>),
        ).map(([what, n]) => ({ what, n }))
      : [];
  return (
    <form
      className="card-form danger-zone"
      aria-label="confirm deletion"
      onSubmit={(e) => {
        e.preventDefault();
        void action.run(async () => {
          await api.delete(
            `/integrations/${encodeURIComponent(props.integration.id)}?confirm=${encodeURIComponent(typed)}`,
          );
          props.onDone();
        });
      }}
    >
      <h2>Delete {props.integration.name}?</h2>
      <p>This purges everything collected from the tenant:</p>
      <AutoTable rows={rows.map((r) => ({ id: r.what, what: r.what, rows: text(r.n) }))} hidden={['id']} />
      <Field label={`Type ${props.integration.name} to confirm`}>
        {(id) => (
          <input id={id} value={typed} onChange={(e) => setTyped(e.target.value)} autoComplete="off" />
        )}
      </Field>
      <ErrorBox error={action.error} />
      <button type="submit" className="danger" disabled={typed !== props.integration.name || action.busy}>
        Delete and purge
      </button>
      <button type="button" onClick={props.onDone}>
        Cancel
      </button>
    </form>
  );
}
