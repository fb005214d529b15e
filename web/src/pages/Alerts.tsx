import { type FormEvent, useState } from 'react';
import { api } from '../api.ts';
import { useIsAdmin } from '../session.tsx';
import { AutoTable, ErrorBox, Field, Loading, Notice, Pager, useAction, useApi, usePaged } from '../ui.tsx';

type Row = Record<string, unknown>;
interface Channel {
  id: string;
  name: string;
  kind?: string;
  type?: string;
  target?: string;
  [key: string]: unknown;
}
const listOf = <T,>(a: T[] | { items: T[] } | undefined) =>
  a === undefined ? undefined : Array.isArray(a) ? a : a.items;

export function AlertsPage() {
  const isAdmin = useIsAdmin();
  const channels = useApi<Channel[] | { items: Channel[] }>('/alerts/channels');
  const policies = useApi<Row[] | { items: Row[] }>('/alerts/policies');
  const deliveries = usePaged<Row>('/alerts/deliveries?limit=25');
  const action = useAction();
  const channelRows = listOf(channels.data);

  const test = (c: Channel) =>
    action.run(async () => {
      const answer = await api.post<{
        status?: string;
        ok?: boolean;
        error?: string | null;
        message?: string;
      }>(`/alerts/channels/${encodeURIComponent(c.id)}/test`);
      deliveries.reload();
      const status = answer?.status ?? (answer?.ok === false ? 'failed' : 'sent');
      return `Test to ${c.name}: ${status}${answer?.error ? ` (${answer.error})` : ''}`;
    });
  const removeChannel = (c: Channel) =>
    action.run(async () => {
      await api.delete(`/alerts/channels/${encodeURIComponent(c.id)}`);
      channels.reload();
      return `Deleted channel ${c.name}.`;
    });
  const removePolicy = (p: Row) =>
    action.run(async () => {
      await api.delete(`/alerts/policies/${encodeURIComponent(String(p.id ?? p.name))}`);
      policies.reload();
      return `Deleted policy ${String(p.name ?? p.id)}.`;
    });

  return (
    <section>
      <h1>Alerts</h1>
      <ErrorBox error={action.error} />
      <Notice>{action.notice}</Notice>

      <h2>Channels</h2>
      <ErrorBox error={channels.error} />
      <Loading when={channels.loading && !channelRows} />
      <AutoTable
        rows={channelRows}
        preferred={['name', 'kind', 'type', 'target', 'createdAt']}
        hidden={['id', 'config']}
        empty="No channels yet."
        max={6}
      />
      {isAdmin && channelRows ? (
        <ul className="plain row-buttons">
          {channelRows.map((c) => (
            <li key={c.id}>
              <span>{c.name}</span>{' '}
              <button type="button" onClick={() => void test(c)} disabled={action.busy}>
                Send test
              </button>{' '}
              <button
                type="button"
                className="danger"
                onClick={() => void removeChannel(c)}
                disabled={action.busy}
              >
                Delete
              </button>
            </li>
          ))}
        </ul>
      ) : null}
      {isAdmin ? <AddChannel onAdded={channels.reload} /> : null}

      <h2>Policies</h2>
      <ErrorBox error={policies.error} />
      <AutoTable
        rows={listOf(policies.data)}
        preferred={['name', 'kind', 'channels', 'enabled', 'createdAt']}
        hidden={['id']}
        empty="No policies yet."
      />
      {isAdmin && listOf(policies.data)?.length ? (
        <ul className="plain row-buttons">
          {listOf(policies.data)?.map((p) => (
            <li key={String(p.id ?? p.name)}>
              <span>{String(p.name ?? p.id)}</span>{' '}
              <button
                type="button"
                className="danger"
                onClick={() => void removePolicy(p)}
                disabled={action.busy}
              >
                Delete
              </button>
            </li>
          ))}
        </ul>
      ) : null}
      {isAdmin && channelRows ? <AddPolicy channels={channelRows} onAdded={policies.reload} /> : null}

      <h2>Delivery log</h2>
      <ErrorBox error={deliveries.error} />
      <AutoTable
        rows={deliveries.data?.items}
        preferred={[
          'createdAt',
          'at',
          'title',
          'policy',
          'channel',
          'status',
          'attempts',
          'lastError',
          'error',
        ]}
        hidden={['id', 'policyId', 'channelId', 'payload']}
        empty="Nothing delivered yet."
      />
      <Pager {...deliveries} label="delivery pages" />
    </section>
  );
}

function AddChannel({ onAdded }: { onAdded: () => void }) {
  const [type, setType] = useState('webhook');
  const [secret, setSecret] = useState<string | undefined>(undefined);
  const action = useAction();
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    const value = (k: string) => String(data.get(k) ?? '').trim();
    const body: Row =
      type === 'email'
        ? {
            name: value('name'),
            type,
            smtpHost: value('smtpHost'),
            smtpPort: value('smtpPort') ? Number(value('smtpPort')) : undefined,
            smtpUser: value('smtpUser') || undefined,
            smtpPassword: value('smtpPassword') || undefined,
            from: value('from'),
            to: value('to')
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean),
          }
        : { name: value('name'), type, url: value('url') };
    void action.run(async () => {
      setSecret(undefined);
      const answer = await api.post<{ secret?: string; generatedSecret?: string; signingSecret?: string }>(
        '/alerts/channels',
        body,
      );
      const shown = answer?.generatedSecret ?? answer?.secret ?? answer?.signingSecret;
      if (shown) setSecret(shown);
      form.reset();
      onAdded();
      return `Added channel ${String(body.name)}.`;
    });
  };
  return (
    <form className="card-form" onSubmit={submit} aria-label="add channel">
      <h3>Add a channel</h3>
      <Field label="Channel name">{(id) => <input id={id} name="name" required />}</Field>
      <Field label="Type">
        {(id) => (
          <select id={id} name="type" value={type} onChange={(e) => setType(e.target.value)}>
            <option value="webhook">webhook</option>
            <option value="slack">Slack</option>
            <option value="teams">Microsoft Teams</option>
            <option value="email">e-mail</option>
          </select>
        )}
      </Field>
      {type === 'email' ? (
        <>
          <Field label="SMTP host">{(id) => <input id={id} name="smtpHost" required />}</Field>
          <Field label="SMTP port">{(id) => <input id={id} name="smtpPort" type="number" />}</Field>
          <Field label="SMTP user">{(id) => <input id={id} name="smtpUser" autoComplete="off" />}</Field>
          <Field label="SMTP password">
            {(id) => <input id={id} name="smtpPassword" type="password" autoComplete="off" />}
          </Field>
          <Field label="From">{(id) => <input id={id} name="from" type="email" required />}</Field>
          <Field label="To (comma-separated)">{(id) => <input id={id} name="to" required />}</Field>
        </>
      ) : (
        <Field label="URL" hint="A credential: stored encrypted, shown masked.">
          {(id) => <input id={id} name="url" type="url" required autoComplete="off" />}
        </Field>
      )}
      <ErrorBox error={action.error} />
      <Notice>{action.notice}</Notice>
      {secret ? (
        <p className="secret" role="status">
          Signing secret (shown once; receivers verify <code>webhook-signature</code> with it):{' '}
          <code>{secret}</code>
        </p>
      ) : null}
      <button type="submit" className="primary" disabled={action.busy}>
        Add channel
      </button>
    </form>
  );
}

function AddPolicy({ channels, onAdded }: { channels: Channel[]; onAdded: () => void }) {
  const [kind, setKind] = useState('rule');
  const action = useAction();
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    const value = (k: string) => String(data.get(k) ?? '').trim();
    const body: Row = {
      name: value('name'),
      kind,
      channels: data.getAll('channels').map(String),
      ...(kind === 'rule' && value('minSeverity') ? { minSeverity: value('minSeverity') } : {}),
      ...(kind === 'compliance' ? { packs: [value('pack')], below: Number(value('below')) } : {}),
      ...(kind === 'change' && value('resourceType') ? { resourceTypes: [value('resourceType')] } : {}),
      ...(kind === 'query' ? { query: value('query') } : {}),
    };
    void action.run(async () => {
      await api.post('/alerts/policies', body);
      form.reset();
      onAdded();
      return `Added policy ${String(body.name)}.`;
    });
  };
  return (
    <form className="card-form" onSubmit={submit} aria-label="add policy">
      <h3>Add a policy</h3>
      <Field label="Policy name">{(id) => <input id={id} name="name" required />}</Field>
      <Field label="Alert on">
        {(id) => (
          <select id={id} value={kind} onChange={(e) => setKind(e.target.value)}>
            <option value="rule">findings (opened, reopened)</option>
            <option value="change">inventory changes</option>
            <option value="compliance">pack score below a threshold</option>
            <option value="query">a saved query's result changed</option>
          </select>
        )}
      </Field>
      {kind === 'rule' ? (
        <Field label="Minimum severity">
          {(id) => (
            <select id={id} name="minSeverity" defaultValue="high">
              <option value="">any</option>
              {['critical', 'high', 'medium', 'low', 'info'].map((s) => (
                <option key={s}>{s}</option>
              ))}
            </select>
          )}
        </Field>
      ) : null}
      {kind === 'change' ? (
        <Field label="Resource type">
          {(id) => <input id={id} name="resourceType" placeholder="permission" />}
        </Field>
      ) : null}
      {kind === 'compliance' ? (
        <>
          <Field label="Pack">{(id) => <input id={id} name="pack" required />}</Field>
          <Field label="Below (percent)">
            {(id) => <input id={id} name="below" type="number" min="0" max="100" required />}
          </Field>
        </>
      ) : null}
      {kind === 'query' ? (
        <Field label="Saved query">{(id) => <input id={id} name="query" required />}</Field>
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
