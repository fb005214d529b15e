import { createContext, useContext } from 'react';
import type { Session } from './api.ts';

export interface SessionState {
  session: Session;
  /** Re-reads the session (after sign-in / sign-out). */
  refresh: () => Promise<void>;
}

export const SessionContext = createContext<SessionState | null>(null);

export function useSession(): SessionState {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession outside the signed-in app');
  return value;
}

/** Whether the signed-in user may change things (admin). */
export function useIsAdmin(): boolean {
  return useSession().session.user?.role === 'admin';
}
