/**
 * Webhook floods against the running service (server thread, live subscriptions on the
 * simulator): from attacker addresses, invalid JSON, oversized and slow bodies, forged client
 * states, unknown subscription ids and replays of a genuine notification; meanwhile Graph's
 * genuine notifications from another address. Refusals must be counted in /metrics
 * (dw_webhook_requests_total by status, dw_webhook_rejected_entries by reason), every forged or
 * unknown entry answered 202 must be counted as rejected (none accepted), replays must change
 * nothing in the inventory, and no genuine notification may wait over 3 s for its 202 (a count).
 */

import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { simCredentials } from '../../sim/connection.ts';
import type { AppContext } from '../../src/app/context.ts';
import { syncOnce } from '../../src/app/sync-once.ts';
import { issueToken } from '../../src/auth/api-tokens.ts';
import { createUser } from '../../src/auth/principals.ts';
import { startService } from '../../src/server/service.ts';
import { waitFor } from '../support/wait.ts';
import { openServedTenant } from './served-tenant.ts';

export interface FloodReport {
  /** Hostile requests sent (each a bad input). */
  hostileRequests: number;
  /** Hostile entries inside them (forged, unknown, replayed). */
  hostileEntries: number;
  /** Answers by status to the hostile requests. */
  answers: Record<string, number>;
  genuine: number;
  /** Genuine notifications answered other than 202, or after more than 3 s. */
  genuineRefused: number;
  slowGenuineAcks: number;
  /** Forged or unknown entries answered 202 but not counted as rejected. */
  acceptedForgeries: number;
  /** Counted by the service's /metrics. */
  metrics: { byStatus: Record<string, number>; rejectedByReason: Record<string, number> };
  problems: string[];
}

const SLOW_ACK_MS = 3_000;

/** One POST from a given local address; the status and the time to the answer. */
function postFrom(source: string, base: string, body: string): Promise<{ status: number; ms: number }> {
  const target = new URL(`${base}/webhooks/graph`);
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: 'POST',
        localAddress: source,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0 }));
      },
    );
    // A refusal may close the socket before the body is sent whole (413, 429).
    req.on('error', () => resolve({ status: -1, ms: performance.now() - t0 }));
    req.end(body);
  });
}

/** A body that never completes (one byte per 200 ms): the request timeout must cut it. */
function slowBody(source: string, base: string): Promise<{ status: number; ms: number }> {
  const url = new URL(base);
  const t0 = performance.now();
  return new Promise((resolve) => {
    const socket = connect({ host: url.hostname, port: Number(url.port), localAddress: source }, () => {
      socket.write(
        'POST /webhooks/graph HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{"va',
      );
    });
    let got = '';
    socket.on('data', (d) => {
      got += d;
    });
    const drip = setInterval(() => socket.writable && socket.write(' '), 200);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(drip);
      resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(got)?.[1] ?? -1), ms: performance.now() - t0 });
    });
  });
}

export async function webhookFloodRun(): Promise<FloodReport> {
  const served = await openServedTenant('floods', { seed: 44, users: 5, items: 150 });
  const { sim, port, app } = served;
  let service: Awaited<ReturnType<typeof startService>> | undefined;
  const report: FloodReport = {
    hostileRequests: 0,
    hostileEntries: 0,
    answers: {},
    genuine: 0,
    genuineRefused: 0,
    slowGenuineAcks: 0,
    acceptedForgeries: 0,
    metrics: { byStatus: {}, rejectedByReason: {} },
    problems: [],
  };
  try {
    const integration = await app.integrations.create({
      name: 'floods',
      ...simCredentials(sim),
      verifiedDomains: sim.verifiedDomains,
    });
    await syncOnce(app, { integration: integration.id, full: true, activity: false });
    service = await startService(app, { listen: { host: '127.0.0.1', port } });
    await service.ready;
    const client = app.graphClientFor(await app.integrations.getWithCredentials(integration.id));
    type Sub = { id: string; clientState?: string | null; resource: string };
    let subs: Sub[];
    try {
      subs = await waitFor(
        'live subscriptions',
        async () => {
          const r = await client.request<{ value: Sub[] }>({
            url: '/subscriptions',
            resource: 'subscriptions',
          });
          return r.body.value.some((s) => s.clientState)
            ? r.body.value.filter((s) => s.clientState)
            : undefined;
        },
        { timeoutMs: 30_000 },
      );
    } finally {
      await client.close();
    }
    const base = `http://127.0.0.1:${port}`;
    const entry = (sub: Sub, over: Record<string, unknown> = {}) => ({
      subscriptionId: sub.id,
      subscriptionExpirationDateTime: new Date(Date.now() + 86_400_000).toISOString(),
      clientState: sub.clientState,
      changeType: 'updated',
      resource: sub.resource.replace(/^\//, ''),
      tenantId: sim.tenantId,
      resourceData: null,
      ...over,
    });
    const changesBefore = await countChanges(app);

    const hostile: Array<Promise<void>> = [];
    const sent202 = { forged: 0, unknown: 0 };
    const hostilePost = (source: string, body: string, entries = 0, kind?: keyof typeof sent202) => {
      report.hostileRequests++;
      report.hostileEntries += entries;
      hostile.push(
        postFrom(source, base, body).then(({ status }) => {
          report.answers[status] = (report.answers[status] ?? 0) + 1;
          if (status === 202 && kind) sent202[kind] += entries;
        }),
      );
    };
    let slowCut = 0;
    for (let i = 0; i < 3; i++)
      hostile.push(
        slowBody('127.0.0.8', base).then(({ status, ms }) => {
          report.hostileRequests++;
          report.answers[status] = (report.answers[status] ?? 0) + 1;
          // Cut by the 10 s request timeout (Node answers 408, or 400 once the body is torn).
          if (ms < 20_000 && status !== 202) slowCut++;
        }),
      );
    for (let i = 0; i < 20; i++) hostilePost('127.0.0.9', i % 2 ? '{"value": [' : 'not json at all');
    for (let i = 0; i < 5; i++)
      hostilePost(
        '127.0.0.9',
        JSON.stringify({ value: [entry(subs[0], { padding: 'x'.repeat(300 * 1024) })] }),
        1,
      );
    for (let i = 0; i < 8; i++)
      hostilePost(
        '127.0.0.10',
        JSON.stringify({
          value: Array.from({ length: 50 }, (_, k) =>
            entry(subs[k % subs.length], { clientState: `forged-${i}-${k}` }),
          ),
        }),
        50,
        'forged',
      );
    for (let i = 0; i < 8; i++)
      hostilePost(
        '127.0.0.11',
        JSON.stringify({
          value: Array.from({ length: 50 }, (_, k) =>
            entry(subs[0], { subscriptionId: `unknown-${i}-${k}` }),
          ),
        }),
        50,
        'unknown',
      );
    // Replays of one genuine notification: accepted as Graph's would be, but they change nothing.
    const replayed = JSON.stringify({ value: [entry(subs[0])] });
    for (let i = 0; i < 30; i++) hostilePost('127.0.0.12', replayed, 1);

    // Graph's genuine notifications meanwhile, from its own address.
    for (let i = 0; i < 30; i++) {
      const { status, ms } = await postFrom(
        '127.0.0.1',
        base,
        JSON.stringify({ value: [entry(subs[i % subs.length])] }),
      );
      report.genuine++;
      if (status !== 202) report.genuineRefused++;
      if (ms > SLOW_ACK_MS) report.slowGenuineAcks++;
    }
    await Promise.all(hostile);

    // Rejection counters reach the store within a flush interval or two.
    const admin = await createUser(app.store.db, {
      username: 'flood-scraper',
      password: null,
      role: 'admin',
    });
    const { token } = await issueToken(app.store.db, { userId: admin.id, name: 'scrape', role: 'admin' });
    const wanted = sent202.forged + sent202.unknown;
    report.metrics = await waitFor(
      'rejections counted in /metrics',
      async () => {
        const m = await scrape(base, token);
        const counted =
          (m.rejectedByReason.client_state_mismatch ?? 0) + (m.rejectedByReason.unknown_subscription ?? 0);
        return counted >= wanted ? m : undefined;
      },
      { timeoutMs: 20_000 },
    ).catch(async () => scrape(base, token));
    const counted = (reason: string) => report.metrics.rejectedByReason[reason] ?? 0;
    report.acceptedForgeries =
      Math.max(0, sent202.forged - counted('client_state_mismatch')) +
      Math.max(0, sent202.unknown - counted('unknown_subscription'));
    // The delta rounds the replays (and genuine notifications) woke have run by now or soon.
    await new Promise((r) => setTimeout(r, 2_000));
    const changesAfter = await countChanges(app);
    if (changesAfter !== changesBefore)
      report.problems.push(`replays changed the inventory: ${changesAfter - changesBefore} change records`);
    const by = report.metrics.byStatus;
    for (const [status, what] of [
      ['400', 'invalid JSON'],
      ['413', 'oversized bodies'],
      ['429', 'flooding sources'],
    ] as const)
      if (!((by[status] ?? 0) > 0)) report.problems.push(`${what}: no ${status} counted in /metrics`);
    if (slowCut < 3) report.problems.push(`slow bodies not cut: ${slowCut} of 3`);
    if (report.genuineRefused > 0)
      report.problems.push(`${report.genuineRefused} genuine notifications refused`);
    if (report.slowGenuineAcks > 0) report.problems.push(`${report.slowGenuineAcks} genuine acks over 3 s`);
    if (report.acceptedForgeries > 0)
      report.problems.push(`${report.acceptedForgeries} forged or unknown entries not counted as rejected`);
    return report;
  } finally {
    await served.close(service);
  }
}

async function countChanges(app: AppContext): Promise<number> {
  const r = await app.store.db
    .selectFrom('changes')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** dw_webhook_requests_total by status and dw_webhook_rejected_entries by reason. */
async function scrape(base: string, token: string): Promise<FloodReport['metrics']> {
  const text = await (
    await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${token}` } })
  ).text();
  const byStatus: Record<string, number> = {};
  const rejectedByReason: Record<string, number> = {};
  for (const m of text.matchAll(/^dw_webhook_requests_total\{status="(\d+)"\} (\d+)/gm))
    byStatus[m[1]] = Number(m[2]);
  for (const m of text.matchAll(/^dw_webhook_rejected_entries\{reason="([a-z_]+)"\} (\d+)/gm))
    rejectedByReason[m[1]] = Number(m[2]);
  return { byStatus, rejectedByReason };
}
