/**
 * A simulator for tests: started with small fixed defaults (seed 7, 30 users, 400 items, a
 * fixed reference time, so the tenant never depends on the day the tests run), with its
 * admin client, a token and calls over HTTPS with its CA.
 */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import { SimAdminClient } from '../../sim/admin-client.ts';
import type { SimHandle, SimOptions } from '../../sim/contracts.ts';
import { startSimulator } from '../../sim/index.ts';

export interface GraphAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  // biome-ignore lint/suspicious/noExplicitAny: test code reads arbitrary JSON
  body: any;
  text: string;
}

export interface TestSim {
  sim: SimHandle;
  admin: SimAdminClient;
  agent: Agent;
  token(audience?: 'graph' | 'management'): Promise<string>;
  tokenRequest(form: Record<string, string>, tenant?: string): Promise<GraphAnswer>;
  get(pathOrUrl: string, headers?: Record<string, string>): Promise<GraphAnswer>;
  call(
    method: string,
    pathOrUrl: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<GraphAnswer>;
  close(): Promise<void>;
}

export async function startTestSim(options: SimOptions = {}): Promise<TestSim> {
  const sim = await startSimulator({
    seed: 7,
    users: 30,
    items: 400,
    referenceTime: '2026-01-01T00:00:00Z',
    ...options,
  });
  const agent = new Agent({ connect: { ca: readFileSync(sim.caCertPath, 'utf8') } });
  const admin = new SimAdminClient(sim);
  const tokens = new Map<string, string>();
  const parse = async (res: Awaited<ReturnType<typeof request>>): Promise<GraphAnswer> => {
    const text = await res.body.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: res.statusCode, headers: res.headers, body, text };
  };
  const tokenRequest = async (form: Record<string, string>, tenant = sim.tenantId) =>
    parse(
      await request(`${sim.authorityUrl}/${tenant}/oauth2/v2.0/token`, {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(form).toString(),
      }),
    );
  const token = async (audience: 'graph' | 'management' = 'graph') => {
    const cached = tokens.get(audience);
    if (cached) return cached;
    const res = await tokenRequest({
      client_id: sim.clientId,
      client_secret: sim.clientSecret,
      grant_type: 'client_credentials',
      scope:
        audience === 'graph' ? 'https://graph.microsoft.com/.default' : 'https://manage.office.com/.default',
    });
    if (res.status !== 200) throw new Error(`token request failed: ${res.text}`);
    tokens.set(audience, res.body.access_token);
    return res.body.access_token as string;
  };
  const call = async (
    method: string,
    pathOrUrl: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const url = pathOrUrl.startsWith('https://') ? pathOrUrl : `${sim.graphBaseUrl}${pathOrUrl}`;
    return parse(
      await request(url, {
        method: method as 'GET',
        dispatcher: agent,
        headers: {
          authorization: `Bearer ${await token()}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      }),
    );
  };
  return {
    sim,
    admin,
    agent,
    token,
    tokenRequest,
    get: (p, h) => call('GET', p, undefined, h),
    call,
    async close() {
      await admin.close();
      await agent.close();
      await sim.close();
    },
  };
}

/** Follows nextLinks to the deltaLink; returns every page. */
export async function allPages(ts: TestSim, first: string, headers: Record<string, string> = {}) {
  const pages: GraphAnswer[] = [];
  let url: string | undefined = first;
  while (url) {
    const page = await ts.get(url, headers);
    if (page.status !== 200) throw new Error(`page ${url} → ${page.status}: ${page.text}`);
    pages.push(page);
    url = page.body['@odata.nextLink'];
    if (pages.length > 10_000) throw new Error('too many pages');
  }
  // biome-ignore lint/suspicious/noExplicitAny: JSON
  const items: any[] = pages.flatMap((p) => p.body.value);
  return { pages, items, deltaLink: pages[pages.length - 1].body['@odata.deltaLink'] as string | undefined };
}

export const GRAPH_ERROR_SHAPE = (body: unknown): boolean => {
  const e = (body as { error?: Record<string, unknown> })?.error;
  const inner = e?.innerError as Record<string, unknown> | undefined;
  return (
    typeof e?.code === 'string' &&
    typeof e?.message === 'string' &&
    typeof inner?.date === 'string' &&
    typeof inner?.['request-id'] === 'string' &&
    typeof inner?.['client-request-id'] === 'string'
  );
};
