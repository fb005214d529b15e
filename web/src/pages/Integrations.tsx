import { type FormEvent, useEffect, useState } from 'react';
import { useSearchParams } from 'react-router-dom';
import { api } from '../api.ts';
import { ago, count } from '../format.ts';
import { useLiveEvents } from '../live.ts';
import { useIsAdmin } from '../session.tsx';
import { ErrorBox, Field, Loading, Notice, Table, useAction, useApi, useThrottled } from '../ui.tsx';

interface Integration {
  id: string;
  name: string;
  tenantId: string;
  enabled: boolean;
  status: string;
  lastSyncAt: string | null;
  items: number | null;
  drives: number | null;
  openErrors?: number;
  lastError:
    | { resourceType: string; code: string; message: string; at: string; count: number }
    | string
    | null;
  missingPermissions?: string[];
}
interface ProbeRow {
  capability?: string;
  permission: string;
  granted: boolean;
  status?: string;
  unlocks: string | string[];
  detail?: string | null;
}
interface PurgePreview {
  id: string;
  name: string;
  tables: Record<string, number>;
  totalRows: number;
}
const listOf = <T,>(a: T[] | { items: T[] } | undefined) =>
  a === undefined ? undefined : Array.isArray(a) ? a : a.items;

function errorText(i: Integration): string {
  const e = i.lastError;
  if (!e) return '—';
  if (typeof e === 'string') return e;
  return `${e.code}: ${e.message}${e.count > 1 ? ` (×${e.count})` : ''}`;
}

export function IntegrationsPage() {
  const isAdmin = useIsAdmin();
  const [params] = useSearchParams();
  const list = useApi<Integration[] | { items: Integration[] }>('/integrations?limit=100');
  const connectConfig = useApi<{ configured: boolean; clientId: string | null }>(
    isAdmin ? '/connect/microsoft' : null,
  );
  const [probe, setProbe] = useState<{ name: string; rows: ProbeRow[] } | undefined>(undefined);
  const [purge, setPurge] = useState<{ integration: Integration; preview: PurgePreview } | undefined>(
    undefined,
  );
  const action = useAction();
  const reloadSoon = useThrottled(list.reload, 1000);
  // Sync progress arrives live: the list (status, last sync, counts) is read again.
  useLiveEvents((m) => {
    if (m.type === 'sync' || m.type === 'changes') reloadSoon();
  });
  const rows = listOf(list.data);
  // While a collection runs, read the list again every few seconds too (live events may lag or be off).
  const collecting = rows?.some((i) => i.status === 'pending' || i.status === 'syncing') ?? false;
  useEffect(() => {
    if (!collecting) return;
    const timer = setInterval(list.reload, 3000);
    return () => clearInterval(timer);
  }, [collecting, list.reload]);
  const added = params.get('added');
  const connectError = params.get('error');

  const connect = () =>
    action.run(async () => {
      const { redirectUrl } = await api.get<{ redirectUrl: string }>('/connect/microsoft/start');
      window.location.assign(redirectUrl);
    });
  const post = (i: Integration, verb: 'probe' | 'disable' | 'enable') =>
    action.run(async () => {
      const answer = await api.post<{ probe?: ProbeRow[] } | undefined>(
        `/integrations/${encodeURIComponent(i.id)}/${verb}`,
      );
      if (verb === 'probe') setProbe({ name: i.name, rows: answer?.probe ?? [] });
      list.reload();
      return `${i.name}: ${verb === 'probe' ? 'probed' : `${verb}d`}.`;
    });
  const previewPurge = (i: Integration) =>
    action.run(async () => {
      const preview = await api.get<PurgePreview>(`/integrations/${encodeURIComponent(i.id)}/purge-preview`);
      setPurge({ integration: i, preview });
    });

  return (
    <section>
      <h1>Integrations</h1>
      {added ? (
        <Notice>Connected: integration {added} was added and its inventory is being collected.</Notice>
      ) : null}
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
          {
            key: 'missing',
            label: 'Missing permissions',
            render: (i) => (i.missingPermissions ?? []).join(', ') || '—',
          },
          { key: 'error', label: 'Last error', render: errorText },
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
              disabled={action.busy || connectConfig.data?.configured === false}
            >
              Connect with Microsoft
            </button>
            {connectConfig.data?.configured === false ? (
              <p className="muted">
                Not configured on this server: set DW_CONNECT_CLIENT_ID and DW_CONNECT_CLIENT_SECRET
                (drivewarden's multi-tenant app registration).
              </p>
            ) : null}
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
      rowKey={(r) => r.capability ?? r.permission}
      columns={[
        { key: 'permission', label: 'Permission', render: (r) => <code>{r.permission}</code> },
        {
          key: 'granted',
          label: 'Granted',
          render: (r) => (
            <span className={r.granted ? 'ok' : 'bad'} title={r.detail ?? undefined}>
              {r.status ?? (r.granted ? 'granted' : 'missing')}
            </span>
          ),
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
    const value = (k: string) => String(data.get(k) ?? '').trim() || undefined;
    void action.run(async () => {
      setProbe(undefined);
      const answer = await api.post<{ integration: Integration; probe: ProbeRow[] }>('/integrations', {
        name: value('name'),
        tenantId: value('tenantId'),
        clientId: value('clientId'),
        clientSecret: value('clientSecret'),
        certificatePem: value('certificatePem'),
        graphBaseUrl: value('graphBaseUrl'),
        authorityUrl: value('authorityUrl'),
        managementBaseUrl: value('managementBaseUrl'),
        caPem: value('caPem'),
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
        An app registration in the tenant with Graph application permissions (Files.Read.All, …). Every
        permission is probed before anything is stored.
      </p>
      <Field label="Name">{(id) => <input id={id} name="name" />}</Field>
      <Field label="Tenant id">{(id) => <input id={id} name="tenantId" required autoComplete="off" />}</Field>
      <Field label="Client id">{(id) => <input id={id} name="clientId" required autoComplete="off" />}</Field>
      <Field label="Client secret" hint="Stored encrypted; never shown again.">
        {(id) => <input id={id} name="clientSecret" type="password" autoComplete="off" />}
      </Field>
      <details>
        <summary>Certificate, national clouds, the simulator</summary>
        <Field label="Certificate (PEM with private key, instead of a secret)">
          {(id) => <textarea id={id} name="certificatePem" className="code" rows={3} spellCheck={false} />}
        </Field>
        <Field label="Graph base URL">
          {(id) => (
            <input id={id} name="graphBaseUrl" type="url" placeholder="https://graph.microsoft.com/v1.0" />
          )}
        </Field>
        <Field label="Authority URL">
          {(id) => (
            <input id={id} name="authorityUrl" type="url" placeholder="https://login.microsoftonline.com" />
          )}
        </Field>
        <Field label="Management API base URL">
          {(id) => <input id={id} name="managementBaseUrl" type="url" />}
        </Field>
        <Field label="Extra CA certificate (PEM)">
          {(id) => <textarea id={id} name="caPem" className="code" rows={3} spellCheck={false} />}
        </Field>
      </details>
      <ErrorBox error={action.error} />
      <Notice>{action.notice}</Notice>
      <button type="submit" className="primary" disabled={action.busy}>
        {action.busy ? 'Connecting and probing…' : 'Add integration'}
      </button>
      {probe ? <ProbeTable title="Permission probe" rows={probe} /> : null}
    </form>
  );
}

function ConfirmDelete(props: { integration: Integration; preview: PurgePreview; onDone: () => void }) {
  const [typed, setTyped] = useState('');
  const action = useAction();
  const { preview, integration } = props;
  return (
    <form
      className="card-form danger-zone"
      aria-label="confirm deletion"
      onSubmit={(e) => {
        e.preventDefault();
        void action.run(async () => {
          await api.delete(
            `/integrations/${encodeURIComponent(integration.id)}?confirm=${encodeURIComponent(typed)}`,
          );
          props.onDone();
        });
      }}
    >
      <h2>Delete {integration.name}?</h2>
      <p>
        This removes its Graph subscriptions and purges everything collected from the tenant:{' '}
        {count(preview.totalRows)} rows.
      </p>
      <Table
        rows={Object.entries(preview.tables ?? {})}
        rowKey={([table]) => table}
        columns={[
          { key: 'table', label: 'Table', render: ([table]) => <code>{table}</code> },
          { key: 'rows', label: 'Rows', render: ([, n]) => count(n), className: 'num' },
        ]}
      />
      <Field label={`Type ${integration.name} to confirm`}>
        {(id) => (
          <input id={id} value={typed} onChange={(e) => setTyped(e.target.value)} autoComplete="off" />
        )}
      </Field>
      <ErrorBox error={action.error} />
      <div className="actions">
        <button type="submit" className="danger" disabled={typed !== integration.name || action.busy}>
          Delete and purge
        </button>
        <button type="button" onClick={props.onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}
