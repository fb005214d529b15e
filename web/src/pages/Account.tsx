import { type FormEvent, useState } from 'react';
import { api } from '../api.ts';
import { useIsAdmin, useSession } from '../session.tsx';
import { ErrorBox, Field, Notice, useAction } from '../ui.tsx';
import { TokensSection, UsersSection } from './Users.tsx';

/**
 * Changing one's own password; `forced` when the password is a one-time one (the first admin's
 * printed password): nothing else is shown until it is changed.
 */
export function AccountPage({ forced = false }: { forced?: boolean }) {
  const { session, refresh } = useSession();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [again, setAgain] = useState('');
  const action = useAction();
  const isAdmin = useIsAdmin();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void action.run(async () => {
      if (next !== again) throw new Error('the new passwords differ');
      await api.post('/auth/password', { current, next });
      setCurrent('');
      setNext('');
      setAgain('');
      await refresh();
      return 'Password changed. Your other sessions were signed out.';
    });
  };
  return (
    <section className={forced ? 'centered' : undefined}>
      <h1>{forced ? 'Choose your password' : 'Your account'}</h1>
      <p>
        Signed in as <strong>{session.user?.username}</strong> ({session.user?.role}).
        {forced ? ' Your password is a one-time one: choose your own to continue.' : ''}
      </p>
      <form className="card-form" onSubmit={submit} aria-label="change password">
        <Field label="Current password">
          {(id) => (
            <input
              id={id}
              type="password"
              autoComplete="current-password"
              required
              value={current}
              onChange={(e) => setCurrent(e.target.value)}
            />
          )}
        </Field>
        <Field label="New password" hint="At least 12 characters.">
          {(id) => (
            <input
              id={id}
              type="password"
              autoComplete="new-password"
              minLength={12}
              required
              value={next}
              onChange={(e) => setNext(e.target.value)}
            />
          )}
        </Field>
        <Field label="New password again">
          {(id) => (
            <input
              id={id}
              type="password"
              autoComplete="new-password"
              minLength={12}
              required
              value={again}
              onChange={(e) => setAgain(e.target.value)}
            />
          )}
        </Field>
        <ErrorBox error={action.error} />
        <Notice>{action.notice}</Notice>
        <button type="submit" className="primary" disabled={action.busy}>
          Change password
        </button>
      </form>
      {forced ? null : <TokensSection />}
      {forced || !isAdmin ? null : <UsersSection />}
    </section>
  );
}
