/**
 * The web app's API client: JSON over fetch with the session cookie, the CSRF token (from
 * GET /api/v1/auth/session) on unsafe requests, and one error type carrying the server's
 * `error.code` and `error.message`. A 401 tells the app to show the sign-in page.
 */

export const API = '/api/v1';

export interface SessionUser {
  id: string | number;
  username: string;
  role: 'admin' | 'viewer';
  mustChangePassword?: boolean;
}

export interface Session {
  user: SessionUser | null;
  csrfToken: string | null;
  sso?: { enabled: boolean };
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId?: string,
  ) {
    super(message);
    this.name = 'ApiFailure';
  }
}

let csrfToken: string | null = null;
const unauthorizedListeners = new Set<() => void>();

/** Called whenever the server answers 401 (the session ended): the app shows sign-in. */
export function onUnauthorized(listener: () => void): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

type QueryValue = string | number | boolean | null | undefined;

/** `?a=1&b=x` from the defined, non-empty values. */
export function queryString(params: Record<string, QueryValue>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params))
    if (value !== undefined && value !== null && value !== '' && value !== false)
      search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
}

async function failureOf(res: Response): Promise<ApiFailure> {
  const text = await res.text();
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string; requestId?: string } };
    if (body.error?.message)
      return new ApiFailure(res.status, body.error.code ?? 'error', body.error.message, body.error.requestId);
  } catch {
    // not JSON: fall through
  }
  return new ApiFailure(
    res.status,
    'http_error',
    `${res.status} ${res.statusText}${text ? `: ${text.slice(0, 200)}` : ''}`,
  );
}

/** A raw request: the CSRF header on unsafe methods, JSON body, failures thrown as ApiFailure. */
export async function request(method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['x-csrf-token'] = csrfToken;
  const res = await fetch(path.startsWith('/') && !path.startsWith(API) ? API + path : path, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) {
    const failure = await failureOf(res);
    if (res.status === 401 && !path.includes('/auth/sign-in')) for (const l of unauthorizedListeners) l();
    throw failure;
  }
  return res;
}

async function json<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await request(method, path, body);
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

export const api = {
  get: <T>(path: string) => json<T>('GET', path),
  post: <T>(path: string, body: unknown = {}) => json<T>('POST', path, body),
  patch: <T>(path: string, body: unknown = {}) => json<T>('PATCH', path, body),
  put: <T>(path: string, body: unknown = {}) => json<T>('PUT', path, body),
  delete: <T>(path: string) => json<T>('DELETE', path),
};

/** The current session; remembers its CSRF token for later unsafe requests. */
export async function loadSession(): Promise<Session> {
  const session = await api.get<Session>('/auth/session');
  setCsrfToken(session.csrfToken);
  return session;
}

/** Path segments of an inventory row: `/:integrationId/:id`, each URL-encoded. */
export function rowPath(integrationId: string, id: string): string {
  return `${encodeURIComponent(integrationId)}/${encodeURIComponent(id)}`;
}

/** A download of a POST answer (query export) through a temporary object URL. */
export async function download(path: string, body: unknown, fallbackName: string): Promise<void> {
  const res = await request('POST', path, body);
  const disposition = res.headers.get('content-disposition') ?? '';
  const name = /filename="?([^";]+)"?/.exec(disposition)?.[1] ?? fallbackName;
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
