import { type FormEvent, useState } from 'react';
import { api } from '../api.ts';
import { text, when } from '../format.ts';
import { useLiveEvents } from '../live.ts';
import { useIsAdmin } from '../session.tsx';
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
  useThrottled,
} from '../ui.tsx';

interface Channel {
  id: string;
  name: string;
  kind: 'slack' | 'teams' | 'email' | 'webhook';
  target: string;
  createdAt: string;
}
interface Policy {
  id: string;
  name: string;
  kind: string;
  channels: string[];
  filter: Record<string, unknown>;
  severity: string;
  enabled: boolean;
  createdAt: string;
}
interface Delivery {
  id: number;
  policy: string;
  channel: string;
  kind: 'alert' | 'digest';
  title: string;
  severity: string;
  itemCount: number;
  status: 'pending' | 'delivered' | 'dead';
  attempts: number;
  lastError: string | null;
  responseStatus: number | null;
  latencyMs: number | null;
  createdAt: string;
  deliveredAt: string | null;
}

/** A policy's filter as one line: `minSeverity high · packs cis`. */
const filterText = (filter: Record<string, unknown>) =>
  Object.entries(filter)
    .filter(([, v]) => !(Array.isArray(v) && v.length === 0) && v !== undefined)
    .map(([k, v]) => `${k} ${Array.isArray(v) ? v.join(', ') : text(v)}`)
    .join(' · ') || 'everything';

export function AlertsPage() {
  const isAdmin = useIsAdmin();
  const channels = useApi<{ items: Channel[] }>('/alerts/channels?limit=200');
  const policies = useApi<{ items: Policy[] }>('/alerts/policies?limit=200');
  const deliveries = usePaged<Delivery>('/alerts/deliveries?limit=25');
  const action = useAction();
  const reloadSoon = useThrottled(deliveries.reload, 1000);
  useLiveEvents((m) => {
    if (m.type === 'alert' && !deliveries.hasPrev) reloadSoon();
  });

  const test = (c: Channel) =>
    action.run(async () => {
      const answer = await api.post<{ ok: boolean; status: number | null; ms: number; error: string | null }>(
        `/alerts/channels/${encodeURIComponent(c.id)}/test`,
      );
      if (!answer.ok)
        throw new Error(
          `Test to ${c.name} failed${answer.status ? ` (${answer.status})` : ''}: ${answer.error ?? 'no answer'}`,
        );
      return `Test alert delivered to ${c.name}${answer.status ? ` (${answer.status})` : ''} in ${answer.ms} ms.`;
    });
  const removeChannel = (c: Channel) =>
    action.run(async () => {
      await api.delete(`/alerts/channels/${encodeURIComponent(c.id)}`);
      channels.reload();
      return `Removed channel ${c.name}.`;
    });
  const removePolicy = (p: Policy) =>
    action.run(async () => {
      await api.delete(`/alerts/policies/${encodeURIComponent(p.id)}`);
      policies.reload();
      return `Removed policy ${p.name}.`;
    });

  return (
    <section>
      <h1>Alerts</h1>
      <ErrorBox error={action.error} />
      <Notice>{action.notice}</Notice>

      <h2>Channels</h2>
      <ErrorBox error={channels.error} />
      <Loading when={channels.loading && !channels.data} />
      <Table
        rows={channels.data?.items}
        rowKey={(c) => c.id}
        empty="No channels yet."
        caption="Channels"
        columns={[
          { key: 'name', label: 'Name', render: (c) => c.name },
          { key: 'kind', label: 'Kind', render: (c) => c.kind },
          { key: 'target', label: 'Target (masked)', render: (c) => <code>{c.target}</code> },
          { key: 'created', label: 'Added', render: (c) => when(c.createdAt) },
          ...(isAdmin
            ? [
                {
                  key: 'actions',
                  label: 'Actions',
                  render: (c: Channel) => (
                    <span className="row-actions">
                      <button
                        type="button"
                        onClick={() => void test(c)}
                        disabled={action.busy}
                        aria-label={`Send test to ${c.name}`}
                      >
                        Send test
                      </button>
                      <button
                        type="button"
                        className="danger"
                        onClick={() => void removeChannel(c)}
                        disabled={action.busy}
                        aria-label={`Remove channel ${c.name}`}
                      >
                        Remove
                      </button>
                    </span>
                  ),
                },
              ]
            : []),
        ]}
      />
      {isAdmin ? <AddChannel onAdded={channels.reload} /> : null}

      <h2>Policies</h2>
      <ErrorBox error={policies.error} />
      <Table
        rows={policies.data?.items}
        rowKey={(p) => p.id}
        empty="No policies yet."
        caption="Policies"
        columns={[
          { key: 'name', label: 'Name', render: (p) => p.name },
          { key: 'kind', label: 'Alerts on', render: (p) => p.kind },
          { key: 'filter', label: 'Filter', render: (p) => filterText(p.filter) },
          { key: 'channels', label: 'Channels', render: (p) => p.channels.join(', ') },
          { key: 'enabled', label: 'Enabled', render: (p) => (p.enabled ? 'yes' : 'no') },
          ...(isAdmin
            ? [
                {
                  key: 'actions',
                  label: 'Actions',
                  render: (p: Policy) => (
                    <button
                      type="button"
                      className="danger"
                      onClick={() => void removePolicy(p)}
                      disabled={action.busy}
                      aria-label={`Remove policy ${p.name}`}
                    >
                      Remove
                    </button>
                  ),
                },
              ]
            : []),
        ]}
      />
      {isAdmin && channels.data ? (
        <AddPolicy channels={channels.data.items} onAdded={policies.reload} />
      ) : null}

      <h2>Delivery log</h2>
      <ErrorBox error={deliveries.error} />
      <Table
        rows={deliveries.data?.items}
        rowKey={(d) => String(d.id)}
        empty="Nothing delivered yet."
        caption="Deliveries, newest first"
        columns={[
          { key: 'at', label: 'When', render: (d) => when(d.createdAt) },
          { key: 'sev', label: 'Severity', render: (d) => <Severity value={d.severity} /> },
          {
            key: 'title',
            label: 'Alert',
            render: (d) => `${d.title}${d.kind === 'digest' ? ` (digest of ${d.itemCount})` : ''}`,
          },
          { key: 'policy', label: 'Policy', render: (d) => d.policy },
          { key: 'channel', label: 'Channel', render: (d) => d.channel },
          {
            key: 'status',
            label: 'Status',
            render: (d) => <span className={`status status-${d.status}`}>{d.status}</span>,
          },
          { key: 'attempts', label: 'Attempts', render: (d) => d.attempts, className: 'num' },
          {
            key: 'answer',
            label: 'Answer',
            render: (d) =>
              d.lastError ??
              (d.responseStatus
                ? `${d.responseStatus}${d.latencyMs !== null ? ` in ${d.latencyMs} ms` : ''}`
                : '—'),
          },
        ]}
      />
      <Pager {...deliveries} label="delivery pages" />
    </section>
  );
}

function AddChannel({ onAdded }: { onAdded: () => void }) {
  const [kind, setKind] = useState<Channel['kind']>('webhook');
  const [secret, setSecret] = useState<string | undefined>(undefined);
  const action = useAction();
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    const value = (k: string) => String(data.get(k) ?? '').trim();
    const optional = (k: string) => value(k) || undefined;
    const config =
      kind === 'email'
        ? {
            host: value('host'),
            port: optional('port') ? Number(value('port')) : undefined,
            security: value('security'),
            user: optional('user'),
            password: optional('password'),
            from: value('from'),
            to: value('to')
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean),
          }
        : { url: value('url') };
    void action.run(async () => {
      setSecret(undefined);
      const answer = await api.post<{ channel: Channel; secret?: string }>('/alerts/channels', {
        name: value('name'),
        kind,
        config,
      });
      if (answer.secret) setSecret(answer.secret);
      form.reset();
      onAdded();
      return `Added channel ${answer.channel.name} → ${answer.channel.target}.`;
    });
  };
  return (
    <form className="card-form" onSubmit={submit} aria-label="add channel">
      <h3>Add a channel</h3>
      <Field label="Channel name">{(id) => <input id={id} name="name" required />}</Field>
      <Field label="Kind">
        {(id) => (
          <select id={id} value={kind} onChange={(e) => setKind(e.target.value as Channel['kind'])}>
            <option value="webhook">webhook (signed JSON)</option>
            <option value="slack">Slack</option>
            <option value="teams">Microsoft Teams</option>
            <option value="email">e-mail</option>
          </select>
        )}
      </Field>
      {kind === 'email' ? (
        <>
          <Field label="SMTP host">{(id) => <input id={id} name="host" required />}</Field>
          <Field label="SMTP port">
            {(id) => <input id={id} name="port" type="number" min="1" max="65535" />}
          </Field>
          <Field label="Security">
            {(id) => (
              <select id={id} name="security" defaultValue="starttls">
                <option value="starttls">STARTTLS (required)</option>
                <option value="tls">TLS</option>
                <option value="none">none</option>
              </select>
            )}
          </Field>
          <Field label="SMTP user">{(id) => <input id={id} name="user" autoComplete="off" />}</Field>
          <Field label="SMTP password">
            {(id) => <input id={id} name="password" type="password" autoComplete="off" />}
          </Field>
          <Field label="From">{(id) => <input id={id} name="from" type="email" required />}</Field>
          <Field label="To (comma-separated)">{(id) => <input id={id} name="to" required />}</Field>
        </>
      ) : (
        <Field label="URL" hint="A credential: stored encrypted, shown masked afterwards.">
          {(id) => <input id={id} name="url" type="url" required autoComplete="off" />}
        </Field>
      )}
      <ErrorBox error={action.error} />
      <Notice>{action.notice}</Notice>
      {secret ? (
        <p className="secret" role="status">
          Signing secret, shown this once (receivers verify <code>webhook-signature</code> with it):{' '}
          <code>{secret}</code>
        </p>
      ) : null}
      <button type="submit" className="primary" disabled={action.busy}>
        Add channel
      </button>
    </form>
  );
}

const list = (raw: string) =>
  raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

function AddPolicy({ channels, onAdded }: { channels: Channel[]; onAdded: () => void }) {
  const [kind, setKind] = useState('rule');
  const action = useAction();
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    const value = (k: string) => String(data.get(k) ?? '').trim();
    const filter: Record<string, unknown> =
      kind === 'rule'
        ? {
            ...(value('minSeverity') ? { minSeverity: value('minSeverity') } : {}),
            ...(value('rules') ? { rules: list(value('rules')) } : {}),
          }
        : kind === 'change'
          ? { ...(value('resourceTypes') ? { resourceTypes: list(value('resourceTypes')) } : {}) }
          : kind === 'compliance'
            ? { packs: list(value('packs')), belowPercent: Number(value('belowPercent')) }
            : {
                query: value('query'),
                ...(value('keyColumns') ? { keyColumns: list(value('keyColumns')) } : {}),
              };
    void action.run(async () => {
      await api.post('/alerts/policies', {
        name: value('name'),
        kind,
        channels: data.getAll('channels').map(String),
        filter,
        ...(kind !== 'rule' && value('severity') ? { severity: value('severity') } : {}),
      });
      form.reset();
      onAdded();
      return `Added policy ${value('name')}.`;
    });
  };
  const severities = ['critical', 'high', 'medium', 'low', 'info'];
  return (
    <form className="card-form" onSubmit={submit} aria-label="add policy">
      <h3>Add a policy</h3>
      <Field label="Policy name">{(id) => <input id={id} name="name" required />}</Field>
      <Field label="Alert on">
        {(id) => (
          <select id={id} value={kind} onChange={(e) => setKind(e.target.value)}>
            <option value="rule">findings (opened, reopened)</option>
            <option value="change">inventory changes</option>
            <option value="compliance">a pack score below a threshold</option>
            <option value="query">a saved query's result changed</option>
          </select>
        )}
      </Field>
      {kind === 'rule' ? (
        <>
          <Field label="Minimum severity">
            {(id) => (
              <select id={id} name="minSeverity" defaultValue="high">
                <option value="">any</option>
                {severities.map((s) => (
                  <option key={s}>{s}</option>
                ))}
              </select>
            )}
          </Field>
          <Field label="Only these rules (comma-separated ids, optional)">
            {(id) => <input id={id} name="rules" />}
          </Field>
        </>
      ) : (
        <Field label="Severity of the alerts">
          {(id) => (
            <select id={id} name="severity" defaultValue="medium">
              {severities.map((s) => (
                <option key={s}>{s}</option>
              ))}
            </select>
          )}
        </Field>
      )}
      {kind === 'change' ? (
        <Field label="Resource types (comma-separated, optional)">
          {(id) => <input id={id} name="resourceTypes" placeholder="permission, drive_item" />}
        </Field>
      ) : null}
      {kind === 'compliance' ? (
        <>
          <Field label="Packs (comma-separated)">{(id) => <input id={id} name="packs" required />}</Field>
          <Field label="Below (percent)">
            {(id) => <input id={id} name="belowPercent" type="number" min="0" max="100" required />}
          </Field>
        </>
      ) : null}
      {kind === 'query' ? (
        <>
          <Field label="Saved query">{(id) => <input id={id} name="query" required />}</Field>
          <Field label="Key columns (comma-separated, optional)" hint="Columns that identify a row.">
            {(id) => <input id={id} name="keyColumns" />}
          </Field>
        </>
      ) : null}
      <fieldset>
        <legend>Send to</legend>
        {channels.length === 0 ? <p className="muted">Add a channel first.</p> : null}
        {channels.map((c) => (
          <label key={c.id} className="check">
            <input type="checkbox" name="channels" value={c.name} /> {c.name}
          </label>
        ))}
      </fieldset>
      <ErrorBox error={action.error} />
      <Notice>{action.notice}</Notice>
      <button type="submit" className="primary" disabled={action.busy}>
        Add policy
      </button>
    </form>
  );
}
