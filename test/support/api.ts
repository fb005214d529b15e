/**
 * The REST API on a real local server for tests: a fresh store (either dialect), the app
 * around it, the server listening on 127.0.0.1, and one signed-in client per role:
 * `api.admin.get('/api/v1/…')`, `api.viewer.post(…)`, `api.anon.get(…)`.
 * Commands run in-process on the same store (the local command bus), as on `serve`'s main thread.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { idleHooks, localCommandBus } from '../../src/app/commands/local-bus.ts';
import type { ServiceHooks } from '../../src/app/commands/types.ts';
import { type AppContext, assembleApp } from '../../src/app/context.ts';
import { createApiToken, createUser, type Role } from '../../src/auth/principals.ts';
import type { SyncContext } from '../../src/collect/context.ts';
import { loadConfig } from '../../src/config/config.ts';
import type { ApiDeps } from '../../src/server/api/deps.ts';
import { createServer, type ServerDeps } from '../../src/server/app.ts';
import type { Dialect } from '../../src/store/codec.ts';
import type { Database } from '../../src/store/schema.ts';
import { quietLogger } from './logger.ts';
import { openTestStore } from './store.ts';

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** Answers are JSON the tests index freely; each test asserts the shape it relies on. */
// biome-ignore lint/suspicious/noExplicitAny: test-side JSON
type Json = any;

export interface ApiClient {
  /** The `Authorization` header this client sends (none for anon). */
  readonly token?: string;
  request<T = Json>(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<ApiResponse<T>>;
  get<T = Json>(path: string): Promise<ApiResponse<T>>;
  post<T = Json>(path: string, body?: unknown): Promise<ApiResponse<T>>;
  patch<T = Json>(path: string, body?: unknown): Promise<ApiResponse<T>>;
  put<T = Json>(path: string, body?: unknown): Promise<ApiResponse<T>>;
  delete<T = Json>(path: string): Promise<ApiResponse<T>>;
}

export interface TestApi {
  url: string;
  app: AppContext;
  server: FastifyInstance;
  admin: ApiClient;
  viewer: ApiClient;
  anon: ApiClient;
  /** A client with another principal's token (e.g. a second admin). */
  clientFor(role: Role, username: string): Promise<ApiClient>;
  close(): Promise<void>;
}

export function apiClient(url: string, token?: string): ApiClient {
  const request = async <T>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const res = await fetch(new URL(path, url), {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    if ((res.headers.get('content-type') ?? '').includes('json') && text) parsed = JSON.parse(text);
    return { status: res.status, headers: res.headers, body: parsed as T, text };
  };
  return {
    token,
    request,
    get: (p) => request('GET', p),
    post: (p, b) => request('POST', p, b ?? {}),
    patch: (p, b) => request('PATCH', p, b ?? {}),
    put: (p, b) => request('PUT', p, b ?? {}),
    delete: (p) => request('DELETE', p),
  };
}

export interface TestApiOptions {
  dialect?: Dialect;
  /** Config overrides (e.g. `{ rules: { … } }`); dataDir is a fresh temporary directory. */
  config?: Record<string, unknown>;
  /** Service hooks the commands see (default: nothing to wake; sync contexts refused). */
  hooks?: Partial<ServiceHooks>;
  /** More deps of the API (webDir, now). */
  api?: Partial<ApiDeps>;
  /** The server's other parts on the test store (webhook receiver, review page), to test the whole server. */
  server?: (db: Kysely<Database>) => Omit<ServerDeps, 'api'>;
}

export async function startTestApi(options: TestApiOptions = {}): Promise<TestApi> {
  const dialect = options.dialect ?? 'sqlite';
  const dir = mkdtempSync(join(tmpdir(), 'dw-api-'));
  const testStore = await openTestStore(dialect);
  const config = loadConfig({}, { dataDir: dir, logLevel: 'silent', ...options.config });
  const app = assembleApp(config, quietLogger, testStore.store);
  const noContext = async (): Promise<never> => {
    throw new Error('no sync context in this test (pass hooks.withSyncContext)');
  };
  const hooks: ServiceHooks = {
    ...idleHooks(noContext as <T>(id: string, fn: (ctx: SyncContext) => Promise<T>) => Promise<T>),
    ...options.hooks,
  };
  const server = await createServer({
    config,
    store: testStore.store,
    logger: quietLogger,
    deps: {
      ...options.server?.(testStore.db),
      api: {
        config,
        db: testStore.db,
        dialect,
        commands: localCommandBus(app, hooks),
        logger: quietLogger,
        ...options.api,
      },
    },
  });
  await server.listen({ host: '127.0.0.1', port: 0 });
  const address = server.server.address();
  if (!address || typeof address !== 'object') throw new Error('the test API did not listen');
  const url = `http://127.0.0.1:${address.port}`;
  const clientFor = async (role: Role, username: string) => {
    const user = await createUser(testStore.db, { username, password: null, role });
    const { token } = await createApiToken(testStore.db, { userId: user.id, name: `${username} test`, role });
    return apiClient(url, token);
  };
  return {
    url,
    app,
    server,
    admin: await clientFor('admin', 'test-admin'),
    viewer: await clientFor('viewer', 'test-viewer'),
    anon: apiClient(url),
    clientFor,
    async close() {
      await server.close();
      await testStore.cleanup();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
