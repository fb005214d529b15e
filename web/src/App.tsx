import { useCallback, useEffect, useState } from 'react';
import { Navigate, Route, Routes, useLocation, useNavigate } from 'react-router-dom';
import { loadSession, onUnauthorized, type Session } from './api.ts';
import { Layout } from './Layout.tsx';
import { AccountPage } from './pages/Account.tsx';
import { ActivityPage } from './pages/Activity.tsx';
import { AlertsPage } from './pages/Alerts.tsx';
import { FindingPage } from './pages/Finding.tsx';
import { FindingsPage } from './pages/Findings.tsx';
import { IntegrationsPage } from './pages/Integrations.tsx';
import { InventoryPage } from './pages/Inventory.tsx';
import { OverviewPage } from './pages/Overview.tsx';
import { PackPage, PacksPage } from './pages/Packs.tsx';
import { DrivePage, GroupPage, UserPage } from './pages/Principal.tsx';
import { QueryPage } from './pages/Query.tsx';
import { RemediationPage } from './pages/Remediation.tsx';
import { ResourcePage } from './pages/Resource.tsx';
import { CustomRulePage, RulePage, RulesPage } from './pages/Rules.tsx';
import { SignInPage } from './pages/SignIn.tsx';
import { StoragePage } from './pages/Storage.tsx';
import { SessionContext } from './session.tsx';
import { ErrorBox } from './ui.tsx';

export function App() {
  const [session, setSession] = useState<Session | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const navigate = useNavigate();
  const location = useLocation();

  const refresh = useCallback(async () => {
    try {
      setSession(await loadSession());
      setError(undefined);
    } catch (err) {
      setError(err);
    }
  }, []);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  // A 401 anywhere: the session ended; sign in again and come back here.
  useEffect(
    () =>
      onUnauthorized(() => {
        setSession((s) => (s ? { ...s, user: null } : s));
      }),
    [],
  );

  if (error && !session)
    return (
      <main className="centered">
        <h1>drivewarden</h1>
        <ErrorBox error={error} />
        <button type="button" onClick={() => void refresh()}>
          Try again
        </button>
      </main>
    );
  if (!session) return <p className="muted centered">Loading…</p>;

  if (!session.user) {
    const next = location.pathname === '/sign-in' ? '/' : location.pathname + location.search;
    return (
      <Routes>
        <Route
          path="/sign-in"
          element={
            <SignInPage
              sso={session.sso?.enabled ?? false}
              onSignedIn={async () => {
                await refresh();
                navigate(new URLSearchParams(location.search).get('next') ?? '/', { replace: true });
              }}
            />
          }
        />
        <Route path="*" element={<Navigate to={`/sign-in?next=${encodeURIComponent(next)}`} replace />} />
      </Routes>
    );
  }

  if (session.user.mustChangePassword)
    return (
      <SessionContext.Provider value={{ session, refresh }}>
        <AccountPage forced />
      </SessionContext.Provider>
    );

  return (
    <SessionContext.Provider value={{ session, refresh }}>
      <Routes>
        <Route element={<Layout />}>
          <Route index element={<OverviewPage />} />
          <Route path="inventory" element={<InventoryPage />} />
          <Route path="inventory/items/:integrationId/:id" element={<ResourcePage />} />
          <Route path="inventory/users/:integrationId/:id" element={<UserPage />} />
          <Route path="inventory/groups/:integrationId/:id" element={<GroupPage />} />
          <Route path="inventory/drives/:integrationId/:id" element={<DrivePage />} />
          <Route path="storage" element={<StoragePage />} />
          <Route path="query" element={<QueryPage />} />
          <Route path="findings" element={<FindingsPage />} />
          <Route path="findings/:id" element={<FindingPage />} />
          <Route path="rules" element={<RulesPage />} />
          <Route path="rules/new" element={<CustomRulePage />} />
          <Route path="rules/:id" element={<RulePage />} />
          <Route path="packs" element={<PacksPage />} />
          <Route path="packs/:id" element={<PackPage />} />
          <Route path="activity" element={<ActivityPage />} />
          <Route path="alerts" element={<AlertsPage />} />
          <Route path="integrations" element={<IntegrationsPage />} />
          <Route path="remediation" element={<RemediationPage />} />
          <Route path="account" element={<AccountPage />} />
          <Route path="sign-in" element={<Navigate to="/" replace />} />
          <Route path="*" element={<NotFound />} />
        </Route>
      </Routes>
    </SessionContext.Provider>
  );
}

function NotFound() {
  return (
    <section>
      <h1>Not found</h1>
      <p>There is no page at this address.</p>
    </section>
  );
}
