import { Link, NavLink, Outlet, useNavigate } from 'react-router-dom';
import { api } from './api.ts';
import { closeLiveEvents } from './live.ts';
import { useSession } from './session.tsx';

const NAV: [string, string][] = [
  ['/', 'Overview'],
  ['/inventory', 'Inventory'],
  ['/storage', 'Storage'],
  ['/findings', 'Findings'],
  ['/rules', 'Rules'],
  ['/packs', 'Packs'],
  ['/query', 'Query'],
  ['/activity', 'Activity'],
  ['/alerts', 'Alerts'],
  ['/integrations', 'Integrations'],
  ['/remediation', 'Remediation'],
];

export function Layout() {
  const { session, refresh } = useSession();
  const navigate = useNavigate();
  const signOut = async () => {
    try {
      await api.post('/auth/sign-out');
    } finally {
      closeLiveEvents();
      await refresh();
      navigate('/sign-in');
    }
  };
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">drivewarden</span>
        <nav aria-label="main">
          <ul>
            {NAV.map(([to, label]) => (
              <li key={to}>
                <NavLink to={to} end={to === '/'}>
                  {label}
                </NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <div className="who">
          <span>
            <Link to="/account">{session.user?.username}</Link>{' '}
            <span className="role">({session.user?.role})</span>
          </span>
          <button type="button" className="link" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
    </>
  );
}
