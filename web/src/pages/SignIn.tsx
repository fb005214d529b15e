import { type FormEvent, useState } from 'react';
import { api, setCsrfToken } from '../api.ts';
import { ErrorBox, Field, useAction } from '../ui.tsx';

export function SignInPage(props: { sso: boolean; onSignedIn: () => Promise<void> }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const action = useAction();
  // Sign-in with Microsoft comes back here with the reason when it was refused.
  const ssoError = new URLSearchParams(window.location.search).get('sso_error');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void action.run(async () => {
      const answer = await api.post<{ csrfToken: string }>('/auth/sign-in', { username, password });
      setCsrfToken(answer.csrfToken);
      await props.onSignedIn();
    });
  };
  return (
    <main className="centered sign-in">
      <h1>drivewarden</h1>
      <p className="muted">OneDrive inventory and security monitor</p>
      <form onSubmit={submit} aria-label="sign in">
        <Field label="Username">
          {(id) => (
            <input
              id={id}
              name="username"
              autoComplete="username"
              required
              value={username}
              onChange={(e) => setUsername(e.target.value)}
            />
          )}
        </Field>
        <Field label="Password">
          {(id) => (
            <input
              id={id}
              name="password"
              type="password"
              autoComplete="current-password"
              required
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          )}
        </Field>
        <ErrorBox error={action.error} />
        <button type="submit" className="primary" disabled={action.busy}>
          {action.busy ? 'Signing in…' : 'Sign in'}
        </button>
        {props.sso ? (
          <p>
            <a className="button" href="/api/v1/auth/sso/start">
              Sign in with Microsoft
            </a>
          </p>
        ) : null}
        {ssoError ? (
          <p role="alert" className="error">
            Sign-in with Microsoft failed: {ssoError}
          </p>
        ) : null}
      </form>
    </main>
  );
}
