/**
 * The Microsoft Graph simulator: `startSimulator(options)` generates the tenant, starts an HTTPS server on
 * 127.0.0.1 with a CA made for the occasion, and answers like Graph does (see sim/README.md).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SimConnectionInfo, SimHandle, SimOptions } from './contracts.ts';
import { registerEventRoutes } from './events/index.ts';
import { checkEventOptions } from './events/options.ts';
import { defaultReferenceMs, generateTenant } from './model/generate.ts';
import { Prng } from './model/prng.ts';
import type { Tenant } from './model/tenant.ts';
import { type ResolvedOptions, Runtime } from './runtime.ts';
import { buildApp } from './server/app.ts';
import { createCerts } from './server/certs.ts';
import { validateFaultRules } from './server/faults.ts';

export { type SimCredentials, simCredentials } from './connection.ts';
export type { SimConnectionInfo, SimHandle, SimOptions } from './contracts.ts';

const ratioOk = (r: number | undefined) => r === undefined || (r >= 0 && r <= 1);

export function resolveOptions(options: SimOptions = {}): ResolvedOptions {
  const o: ResolvedOptions = {
    ...options,
    seed: options.seed ?? 1,
    users: options.users ?? 50,
    items: options.items ?? 2_000,
    unprovisionedRatio: options.unprovisionedRatio ?? 0.05,
    sharedRatio: options.sharedRatio ?? 0.05,
    anonymousRatio: options.anonymousRatio ?? 0.01,
    violationRatio: options.violationRatio ?? 0.1,
    timeScale: options.timeScale ?? 1,
    latencyMs: options.latencyMs ?? 0,
    deltaRepeatRate: options.deltaRepeatRate ?? 0.01,
    allowHttpNotifications: options.allowHttpNotifications ?? false,
    adminConsent: options.adminConsent ?? 'approve',
  };
  const checks: Array<[boolean, string]> = [
    [Number.isInteger(o.seed), 'seed must be an integer'],
    [Number.isInteger(o.users) && o.users >= 1, 'users must be an integer ≥ 1'],
    [Number.isInteger(o.items) && o.items >= 1, 'items must be an integer ≥ 1'],
    [o.unprovisionedRatio >= 0 && o.unprovisionedRatio <= 1, 'unprovisionedRatio must be in 0..1'],
    [o.sharedRatio >= 0 && o.sharedRatio <= 1, 'sharedRatio must be in 0..1'],
    [o.anonymousRatio >= 0 && o.anonymousRatio <= 1, 'anonymousRatio must be in 0..1'],
    [o.violationRatio >= 0 && o.violationRatio <= 1, 'violationRatio must be in 0..1'],
    [o.timeScale > 0, 'timeScale must be > 0'],
    [o.latencyMs >= 0, 'latencyMs must be ≥ 0'],
    [o.deltaRepeatRate >= 0 && o.deltaRepeatRate <= 1, 'deltaRepeatRate must be in 0..1'],
    [o.ruBudgetPerMinute === undefined || o.ruBudgetPerMinute > 0, 'ruBudgetPerMinute must be > 0'],
    [
      o.referenceTime === undefined || !Number.isNaN(Date.parse(o.referenceTime)),
      'referenceTime must be an ISO date-time',
    ],
    [ratioOk(o.labels?.share), 'labels.share must be in 0..1'],
    [ratioOk(o.labels?.lockedShare), 'labels.lockedShare must be in 0..1'],
    [
      o.port === undefined || (Number.isInteger(o.port) && o.port >= 0 && o.port < 65536),
      'port must be 0..65535',
    ],
  ];
  const bad = [...checks.filter(([ok]) => !ok).map(([, m]) => m), ...checkEventOptions(o.events)];
  if (bad.length > 0) throw new Error(`invalid simulator options: ${bad.join('; ')}`);
  validateFaultRules(o.faults ?? []);
  return o;
}

/** The tenant alone, without a server (tests of the generator, benchmarks). */
export function generateFromOptions(options: SimOptions = {}): Tenant {
  const o = resolveOptions(options);
  return generateTenant({
    seed: o.seed,
    users: o.users,
    items: o.items,
    unprovisionedRatio: o.unprovisionedRatio,
    sharedRatio: o.sharedRatio,
    anonymousRatio: o.anonymousRatio,
    violationRatio: o.violationRatio,
    referenceMs: o.referenceTime ? Date.parse(o.referenceTime) : defaultReferenceMs(),
    sharepointSettings: o.sharepointSettings,
    labels: o.labels,
  });
}

export async function startSimulator(options: SimOptions = {}): Promise<SimHandle> {
  const o = resolveOptions(options);
  const stateDir = o.stateDir ?? (await mkdtemp(join(tmpdir(), 'drivewarden-sim-')));
  const [tenant, certs] = await Promise.all([
    Promise.resolve().then(() => generateFromOptions(o)),
    createCerts(stateDir),
  ]);
  const rt = new Runtime(tenant, o);
  const idRng = new Prng(o.seed, 3);
  const clientId = idRng.guid();
  const clientSecret = `sim~${createHash('sha256').update(`${o.seed}:secret`).digest('base64url').slice(0, 34)}`;
  const adminSecret = randomBytes(24).toString('hex');
  rt.adminSecret = adminSecret;
  const { app, releaseHung } = buildApp(rt, certs, { clientId, clientSecret }, adminSecret);
  // subscriptions show the app's id (tokens carry it as appid too); SimOptions.events reach the
  // event half through rt.options.events
  const events = registerEventRoutes(app, rt, { applicationId: o.events?.applicationId ?? clientId });
  await app.listen({ host: '127.0.0.1', port: o.port ?? 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : o.port;
  rt.baseUrl = `https://127.0.0.1:${port}`;
  const info: SimConnectionInfo = {
    graphBaseUrl: `${rt.baseUrl}/v1.0`,
    authorityUrl: rt.baseUrl,
    managementBaseUrl: `${rt.baseUrl}/api/v1.0`,
    tenantId: tenant.tenantId,
    clientId,
    clientSecret,
    caCertPath: certs.caCertPath,
    adminUrl: `${rt.baseUrl}/_sim`,
    adminSecret,
    verifiedDomains: [...tenant.verifiedDomains],
    clientCertificatePath: certs.clientCertPath,
    clientCertificateThumbprint: certs.clientThumbprintSha1,
  };
  let closed = false;
  return {
    ...info,
    async close() {
      if (closed) return;
      closed = true;
      releaseHung();
      await events.close();
      await app.close();
    },
  };
}
