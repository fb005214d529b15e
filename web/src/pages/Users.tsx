import { type FormEvent, useState } from 'react';
import { api } from '../api.ts';
import { when } from '../format.ts';
import { ErrorBox, Field, Notice, Pager, Table, useAction, usePaged } from '../ui.tsx';

interface Token {
  id: string;
  name: string;
  prefix: string;
  username: string;
  role: 'admin' | 'viewer';
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
}
interface User {
  id: string;
  username: string;
  role: 'admin' | 'viewer';
  disabled: boolean;
  mustChangePassword: boolean;
  sso: boolean;
  createdAt: string;
  lastSignInAt: string | null;
}

/** The secret shown once after creating a token or a user. */
function ShownOnce({ label, secret }: { label: string; secret: string | undefined }) {
  if (!secret) return null;
  return (
    <p className="secret" role="status">
      {label} (shown this once): <code>{secret}</code>
    </p>
  );
}

/** API tokens: one's own (admins see everyone's), create (secret shown once), revoke. */
export function TokensSection() {
  const tokens = usePaged<Token>('/tokens?limit=50');
  const [secret, setSecret] = useState<string | undefined>(undefined);
  const action = useAction();
  const create = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    const expires = String(data.get('expires') ?? '');
    void action.run(async () => {
      const issued = await api.post<Token & { token: string }>('/tokens', {
        name: String(data.get('name') ?? '').trim(),
        ...(expires ? { expiresAt: new Date(`${expires}T23:59:59Z`).toISOString() } : {}),
      });
      setSecret(issued.token);
      form.reset();
      tokens.reload();
      return `Token ${issued.name} created.`;
    });
  };
  const revoke = (t: Token) =>
    action.run(async () => {
      await api.delete(`/tokens/${encodeURIComponent(t.id)}`);
      tokens.reload();
      return `Token ${t.name} revoked.`;
    });
  return (
    <>
      <h2>API tokens</h2>
      <ErrorBox error={tokens.error} />
      <Table
        rows={tokens.data?.items}
        rowKey={(t) => t.id}
        empty="No API tokens."
        caption="API tokens (their secrets are never shown again)"
        columns={[
          { key: 'name', label: 'Name', render: (t) => t.name },
          { key: 'prefix', label: 'Starts with', render: (t) => <code>{t.prefix}…</code> },
          { key: 'user', label: 'User', render: (t) => `${t.username} (${t.role})` },
          { key: 'created', label: 'Created', render: (t) => when(t.createdAt) },
          { key: 'expires', label: 'Expires', render: (t) => (t.expiresAt ? when(t.expiresAt) : 'never') },
          { key: 'used', label: 'Last used', render: (t) => when(t.lastUsedAt) },
          {
            key: 'revoke',
            label: 'Revoke',
            render: (t) => (
              <button
                type="button"
                className="danger"
                onClick={() => void revoke(t)}
                disabled={action.busy}
                aria-label={`Revoke token ${t.name}`}
              >
                Revoke
              </button>
            ),
          },
        ]}
      />
      <Pager {...tokens} label="token pages" />
      <form className="inline-form" onSubmit={create} aria-label="create token">
        <Field label="Token name">
          {(id) => <input id={id} name="name" required placeholder="SIEM export" />}
        </Field>
        <Field label="Expires (optional)">{(id) => <input id={id} name="expires" type="date" />}</Field>
        <button type="submit" disabled={action.busy}>
          Create token
        </button>
      </form>
      <ShownOnce label="The token" secret={secret} />
      <ErrorBox error={action.error} />
      <Notice>{action.notice}</Notice>
    </>
  );
}

/** Users (admins): add (a one-time password when none is given), disable, make admin or viewer, remove. */
export function UsersSection() {
  const users = usePaged<User>('/users?limit=50');
  const [secret, setSecret] = useState<string | undefined>(undefined);
  const action = useAction();
  const create = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    const password = String(data.get('password') ?? '');
    void action.run(async () => {
      const created = await api.post<{ user: User; oneTimePassword?: string }>('/users', {
        username: String(data.get('username') ?? '').trim(),
        role: String(data.get('role') ?? 'viewer'),
        ...(password ? { password } : {}),
      });
      setSecret(created.oneTimePassword);
      form.reset();
      users.reload();
      return `User ${created.user.username} added.`;
    });
  };
  const patch = (u: User, change: Partial<Pick<User, 'role' | 'disabled'>>, done: string) =>
    action.run(async () => {
      await api.patch(`/users/${encodeURIComponent(u.id)}`, change);
      users.reload();
      return done;
    });
  const remove = (u: User) =>
    action.run(async () => {
      await api.delete(`/users/${encodeURIComponent(u.id)}`);
      users.reload();
      return `User ${u.username} removed.`;
    });
  return (
    <>
      <h2>Users</h2>
      <ErrorBox error={users.error} />
      <Table
        rows={users.data?.items}
        rowKey={(u) => u.id}
        caption="People who can sign in"
        columns={[
          { key: 'name', label: 'Username', render: (u) => u.username },
          { key: 'role', label: 'Role', render: (u) => u.role },
          {
            key: 'state',
            label: 'State',
            render: (u) =>
              [
                u.disabled ? 'disabled' : 'active',
                u.mustChangePassword ? 'one-time password' : '',
                u.sso ? 'SSO' : '',
              ]
                .filter(Boolean)
                .join(', '),
          },
          { key: 'last', label: 'Last sign-in', render: (u) => when(u.lastSignInAt) },
          {
            key: 'actions',
            label: 'Actions',
            render: (u) => (
              <span className="row-actions">
                <button
                  type="button"
                  disabled={action.busy}
                  onClick={() =>
                    void patch(
                      u,
                      { role: u.role === 'admin' ? 'viewer' : 'admin' },
                      `${u.username} is now ${u.role === 'admin' ? 'a viewer' : 'an admin'}.`,
                    )
                  }
                >
                  Make {u.role === 'admin' ? 'viewer' : 'admin'}
                </button>
                <button
                  type="button"
                  disabled={action.busy}
                  onClick={() =>
                    void patch(
                      u,
                      { disabled: !u.disabled },
                      `${u.username} ${u.disabled ? 'enabled' : 'disabled'}.`,
                    )
                  }
                >
                  {u.disabled ? 'Enable' : 'Disable'}
                </button>
                <button
                  type="button"
                  className="danger"
                  disabled={action.busy}
                  onClick={() => void remove(u)}
                  aria-label={`Remove user ${u.username}`}
                >
                  Remove
                </button>
              </span>
            ),
          },
        ]}
      />
      <Pager {...users} label="user pages" />
      <form className="inline-form" onSubmit={create} aria-label="add user">
        <Field label="Username">
          {(id) => <input id={id} name="username" required autoComplete="off" />}
        </Field>
        <Field label="Role">
          {(id) => (
            <select id={id} name="role" defaultValue="viewer">
              <option value="viewer">viewer (read-only)</option>
              <option value="admin">admin</option>
            </select>
          )}
        </Field>
        <Field label="Password (optional)" hint="Empty: a one-time password to pass on.">
          {(id) => (
            <input id={id} name="password" type="password" minLength={12} autoComplete="new-password" />
          )}
        </Field>
        <button type="submit" disabled={action.busy}>
          Add user
        </button>
      </form>
      <ShownOnce label="One-time password" secret={secret} />
      <ErrorBox error={action.error} />
      <Notice>{action.notice}</Notice>
    </>
  );
}
