import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { SimAdminClient, SimAdminError } from '../sim/admin-client.ts';
import { simCredentials } from '../sim/connection.ts';
import type { SimHandle, SimMutation } from '../sim/contracts.ts';
import { startSimulator } from '../sim/index.ts';
import { type AppContext, openApp } from '../src/app/context.ts';
import { deleteIntegration } from '../src/app/integration-lifecycle.ts';
import { createGraphClient } from '../src/graph/client.ts';
import { openInboxForReading } from '../src/queue/webhook-inbox.ts';
import { type Service, startService } from '../src/server/service.ts';
import { freePort } from './support/ports.ts';
import { describeDiff, diffWithTruth } from './support/truth.ts';
import { waitFor } from './support/wait.ts';

/**
 * Issue 4's acceptance, end to end: the real service (collector + webhook receiver +
 * subscriptions + inbox worker + poller) against the simulator, which delivers real
 * webhooks over HTTP on loopback. Timing targets live in the benchmarks; these tests
 * assert what ends up in the inventory.
 */

interface Env {
  sim: SimHandle;
  admin: SimAdminClient;
  app: AppContext;
  service: Service;
  integrationId: string;
  close(): Promise<void>;
}

async function startEnv(opts: { webhooks: boolean; seed: number; pollSeconds?: number }): Promise<Env> {
  const sim = await startSimulator({ seed: opts.seed, users: 8, items: 400, allowHttpNotifications: true });
  const admin = new SimAdminClient(sim);
  const port = await freePort();
  const app = await openApp({
    dataDir: mkdtempSync(join(tmpdir(), 'dw-rt-')),
    logLevel: 'silent',
    'server.port': port,
    'server.publicUrl': opts.webhooks ? `http://127.0.0.1:${port}` : undefined,
    'sync.pollIntervalSeconds': opts.pollSeconds ?? 3600,
    'sync.directoryIntervalSeconds': opts.pollSeconds ?? 3600,
    'sync.debounceMs': 50,
  });
  // The simulator's Graph, authority and management (audit feed) URLs: without the last one
  // the service's audit feed would try manage.office.com.
  const integration = await app.integrations.create({
    name: 'rt',
    ...simCredentials(sim),
    verifiedDomains: sim.verifiedDomains,
  });
  const service = await startService(app, { listen: { host: '127.0.0.1', port } });
  await service.ready;
  return {
    sim,
    admin,
    app,
    service,
    integrationId: integration.id,
    async close() {
      await service.close();
      await app.close();
      await admin.close();
      await sim.close();
    },
  };
}

async function anonymousLinkOn(env: Env, itemId: string) {
  const row = await env.app.store.db
    .selectFrom('permissions')
    .select(['id', 'link_scope'])
    .where('integration_id', '=', env.integrationId)
    .where('item_id', '=', itemId)
    .where('link_scope', '=', 'anonymous')
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  return row ?? undefined;
}

async function pickFile(env: Env) {
  const drives = await env.admin.drives();
  for (const d of drives) {
    const file = (await env.admin.items(d.id)).find(
      (i) => !i.isFolder && !i.deleted && i.sharedScope === null,
    );
    if (file) return { driveId: d.id, file };
  }
  throw new Error('no unshared file in the tenant');
}

async function converge(env: Env, timeoutMs: number) {
  let last = '';
  await waitFor(
    'the inventory to equal the ground truth',
    async () => {
      const diff = await diffWithTruth(env.app.store, env.integrationId, env.admin);
      last = describeDiff(diff);
      return diff.missing.length === 0 && diff.extra.length === 0 ? true : undefined;
    },
    { timeoutMs, intervalMs: 50 },
  ).catch((err) => {
    throw new Error(`${(err as Error).message}\n${last}`);
  });
}

/** History is one record per observed change: added first, removed only when present, never twice in a row. */
async function assertHistoryConsistent(env: Env) {
  const rows = await env.app.store.db
    .selectFrom('changes')
    .select(['resource_type', 'resource_id', 'change_type', 'fields', 'drive_id', 'item_id', 'group_id'])
    .where('integration_id', '=', env.integrationId)
    .orderBy('id')
    .execute();
  const state = new Map<string, string>();
  for (const r of rows) {
    const key = `${r.resource_type}|${r.drive_id ?? ''}|${r.item_id ?? ''}|${r.group_id ?? ''}|${r.resource_id}`;
    const before = state.get(key);
    if (r.change_type === 'added')
      assert.ok(before === undefined || before === 'removed', `${key}: added twice`);
    else
      assert.ok(
        before !== undefined && before !== 'removed',
        `${key}: ${r.change_type} without being present`,
      );
    if (r.change_type === 'modified') {
      const fields = typeof r.fields === 'string' ? JSON.parse(r.fields) : r.fields;
      assert.ok(Array.isArray(fields) && fields.length > 0, `${key}: a modification names its fields`);
    }
    state.set(key, r.change_type);
  }
  assert.ok(rows.length > 0);
}

/** A random but valid user action in the tenant; returns false when the simulator refused it (e.g. moving a folder into itself). */
async function randomMutation(env: Env, rng: () => number, drives: Array<{ id: string }>): Promise<boolean> {
  const driveId = drives[Math.floor(rng() * drives.length)].id;
  const items = (await env.admin.items(driveId)).filter((i) => !i.deleted);
  const nonRoot = items.filter((i) => i.parentId !== null);
  const folders = items.filter((i) => i.isFolder);
  const pick = <T>(list: T[]) => list[Math.floor(rng() * list.length)];
  if (nonRoot.length === 0) return false;
  const target = pick(nonRoot);
  const kinds = ['anonymous', 'organization', 'users', 'guest', 'external', 'internal'] as const;
  const choices: SimMutation[] = [
    {
      op: 'createItem',
      driveId,
      parentId: pick(folders).id,
      name: `new-${rng().toString(36).slice(2, 8)}.docx`,
      size: 1000,
    },
    {
      op: 'createItem',
      driveId,
      parentId: pick(folders).id,
      name: `dir-${rng().toString(36).slice(2, 8)}`,
      folder: true,
    },
    {
      op: 'renameItem',
      driveId,
      itemId: target.id,
      name: `renamed-${rng().toString(36).slice(2, 8)}${target.isFolder ? '' : '.txt'}`,
    },
    { op: 'moveItem', driveId, itemId: target.id, newParentId: pick(folders).id },
    { op: 'modifyItem', driveId, itemId: target.id, size: Math.floor(rng() * 1e6) },
    { op: 'deleteItem', driveId, itemId: target.id },
    {
      op: 'share',
      driveId,
      itemId: target.id,
      kind: pick([...kinds]),
      linkType: rng() < 0.5 ? 'view' : 'edit',
      email: 'someone@fabrikam.example',
    },
    { op: 'unshare', driveId, itemId: target.id },
    { op: 'setQuotaUsed', driveId, used: Math.floor(rng() * 1e9) },
  ];
  try {
    await env.admin.mutate(pick(choices));
    return true;
  } catch (err) {
    if (err instanceof SimAdminError) return false;
    throw err;
  }
}

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('real-time inventory against the simulator', () => {
  it('webhook path: an anonymous share appears with its permission, forged notifications change nothing', async () => {
    const env = await startEnv({ webhooks: true, seed: 21 });
    try {
      const status = await env.service.realtime.status();
      assert.equal(
        status.integrations[0].subscriptions.filter((s) => s.status === 'active').length,
        (await env.admin.drives()).length + 1,
      );
      const { driveId, file } = await pickFile(env);
      await env.admin.mutate({ op: 'share', driveId, itemId: file.id, kind: 'anonymous', linkType: 'view' });
      const link = await waitFor('the anonymous link in the inventory', () => anonymousLinkOn(env, file.id), {
        timeoutMs: 15_000,
        intervalMs: 50,
      });
      assert.equal(link.link_scope, 'anonymous');

      // A forged notification (right subscription id, wrong clientState) runs nothing and is counted.
      const before = await env.service.realtime.inbox.count();
      assert.ok(before > 0, 'the share above went through the inbox');
      const sub = status.integrations[0].subscriptions[0];
      const res = await fetch(`${env.service.realtime.url}/webhooks/graph`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          value: [
            {
              subscriptionId: sub.id,
              clientState: 'forged',
              tenantId: env.sim.tenantId,
              changeType: 'updated',
              resource: sub.resource,
            },
          ],
        }),
      });
      assert.equal(res.status, 202);
      assert.equal(await env.service.realtime.inbox.count(), before, 'nothing persisted');
      const rejected = await waitFor(
        'the rejection counter',
        async () => {
          const s = await env.service.realtime.status();
          return s.integrations[0].rejected.client_state_mismatch ? s.integrations[0].rejected : undefined;
        },
        { timeoutMs: 5_000, intervalMs: 50 },
      );
      assert.equal(rejected.client_state_mismatch, 1);

      // Deleting the integration deletes its subscriptions on Graph and purges its data.
      await env.service.close();
      const result = await deleteIntegration(env.app, env.integrationId);
      assert.equal(result.subscriptions.deleted, (await env.admin.drives()).length + 1);
      assert.deepEqual(result.subscriptions.errors, []);
      const graph = createGraphClient({
        tenantId: env.sim.tenantId,
        clientId: env.sim.clientId,
        clientSecret: env.sim.clientSecret,
        graphBaseUrl: env.sim.graphBaseUrl,
        authorityUrl: env.sim.authorityUrl,
        caPem: readFileSync(env.sim.caCertPath, 'utf8'),
      });
      const left = await graph.request<{ value: unknown[] }>({ url: '/subscriptions' });
      await graph.close();
      assert.equal(left.body.value.length, 0, 'no subscription left on Graph');
      const inbox = await openInboxForReading(env.app.store.db);
      assert.equal(inbox.kind, 'sqlite-file');
      assert.equal(await inbox.count(), 0, 'its webhook inbox rows are purged too');
      await inbox.close();
      const rows = await env.app.store.db
        .selectFrom('drive_items')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow();
      assert.equal(Number(rows.n), 0);
    } finally {
      await env.close();
    }
  });

  it('polling only: the share appears within a polling interval, with no subscription', async () => {
    const env = await startEnv({ webhooks: false, seed: 22, pollSeconds: 2 });
    try {
      const status = await env.service.realtime.status();
      assert.equal(status.integrations[0]?.subscriptions.length ?? 0, 0);
      const { driveId, file } = await pickFile(env);
      await env.admin.mutate({ op: 'share', driveId, itemId: file.id, kind: 'anonymous', linkType: 'edit' });
      await waitFor('the anonymous link via polling', () => anonymousLinkOn(env, file.id), {
        timeoutMs: 15_000,
        intervalMs: 50,
      });
    } finally {
      await env.close();
    }
  });

  it('notifications lost while delivery is off are caught up by polling; random mutations end exact with consistent history', async () => {
    const mutations = Number(process.env.DW_E2E_MUTATIONS ?? 150);
    const env = await startEnv({ webhooks: true, seed: 23, pollSeconds: 2 });
    try {
      const rng = seeded(23);
      const drives = await env.admin.drives();
      let applied = 0;
      for (let i = 0; i < mutations; i++) {
        if (i === Math.floor(mutations / 3))
          await env.admin.mutate({ op: 'setNotificationDelivery', enabled: false });
        if (i === Math.floor((2 * mutations) / 3))
          await env.admin.mutate({ op: 'setNotificationDelivery', enabled: true });
        if (await randomMutation(env, rng, drives)) applied++;
      }
      assert.ok(applied > mutations / 2, `most mutations applied (${applied}/${mutations})`);
      await converge(env, 60_000);
      await assertHistoryConsistent(env);
    } finally {
      await env.close();
    }
  });

  it('polling only: random mutations end exact with consistent history', async () => {
    const mutations = Number(process.env.DW_E2E_MUTATIONS ?? 100);
    const env = await startEnv({ webhooks: false, seed: 24, pollSeconds: 1 });
    try {
      const rng = seeded(24);
      const drives = await env.admin.drives();
      for (let i = 0; i < mutations; i++) await randomMutation(env, rng, drives);
      await converge(env, 60_000);
      await assertHistoryConsistent(env);
    } finally {
      await env.close();
    }
  });

  it('the directory schedule refreshes a quota that changed with no item change', async () => {
    const env = await startEnv({ webhooks: true, seed: 25, pollSeconds: 1 });
    try {
      const [drive] = await env.admin.drives();
      await env.admin.mutate({ op: 'setQuotaUsed', driveId: drive.id, used: 123_456_789 });
      await waitFor(
        'the new quota in the inventory',
        async () => {
          const row = await env.app.store.db
            .selectFrom('drives')
            .select('quota_used')
            .where('integration_id', '=', env.integrationId)
            .where('id', '=', drive.id)
            .executeTakeFirst();
          return Number(row?.quota_used) === 123_456_789 ? true : undefined;
        },
        { timeoutMs: 15_000, intervalMs: 50 },
      );
      await converge(env, 15_000);
    } finally {
      await env.close();
    }
  });

  it('the directory schedule re-reads the tenant settings: a change is a modified row seen by polling', async () => {
    const env = await startEnv({ webhooks: true, seed: 27, pollSeconds: 1 });
    try {
      await env.admin.mutate({ op: 'setSharepointSettings', settings: { sharingCapability: 'disabled' } });
      await waitFor(
        'the new sharing capability in the inventory',
        async () => {
          const row = await env.app.store.db
            .selectFrom('tenant_settings')
            .select('sharing_capability')
            .where('integration_id', '=', env.integrationId)
            .executeTakeFirst();
          return row?.sharing_capability === 'disabled' ? true : undefined;
        },
        { timeoutMs: 15_000, intervalMs: 50 },
      );
      const history = await env.app.store.db
        .selectFrom('changes')
        .select(['change_type', 'source'])
        .where('integration_id', '=', env.integrationId)
        .where('resource_type', '=', 'tenant_settings')
        .orderBy('id')
        .execute();
      assert.deepEqual(
        history.map((h) => [h.change_type, h.source]),
        [
          ['added', 'full'],
          ['modified', 'poll'],
        ],
      );
    } finally {
      await env.close();
    }
  });

  it('lifecycle events from Graph: reauthorize renews, subscriptionRemoved re-creates, missed runs a delta', async () => {
    const env = await startEnv({ webhooks: true, seed: 26 });
    const agent = new Agent({ connect: { ca: readFileSync(env.sim.caCertPath, 'utf8') } });
    const lifecycle = async (subscriptionId: string, event: string) => {
      const res = await request(`${env.sim.adminUrl}/events/lifecycle`, {
        method: 'POST',
        dispatcher: agent,
        headers: { authorization: `Bearer ${env.sim.adminSecret}`, 'content-type': 'application/json' },
        body: JSON.stringify({ subscriptionId, event }),
      });
      assert.equal(res.statusCode, 202, await res.body.text());
    };
    const subscriptions = () =>
      env.app.store.db
        .selectFrom('graph_subscriptions')
        .select(['id', 'resource', 'expiration', 'last_renewed_at'])
        .where('integration_id', '=', env.integrationId)
        .execute();
    try {
      const [drive] = await env.admin.drives();
      const resource = `/drives/${drive.id}/root`;
      const original = (await subscriptions()).find((s) => s.resource === resource);
      assert.ok(original, 'the drive root is subscribed');

      await lifecycle(original.id, 'reauthorizationRequired');
      await waitFor(
        'the subscription to be renewed',
        async () => {
          const row = (await subscriptions()).find((s) => s.id === original.id);
          return row?.last_renewed_at ? row : undefined;
        },
        { timeoutMs: 15_000, intervalMs: 50 },
      );

      await lifecycle(original.id, 'subscriptionRemoved');
      const replacement = await waitFor(
        'a new subscription for the drive root',
        async () => {
          const rows = (await subscriptions()).filter((s) => s.resource === resource);
          return rows.length === 1 && rows[0].id !== original.id ? rows[0] : undefined;
        },
        { timeoutMs: 15_000, intervalMs: 50 },
      );
      // The new subscription delivers: a share made now reaches the inventory by webhook.
      const file = (await env.admin.items(drive.id)).find(
        (i) => !i.isFolder && !i.deleted && i.sharedScope === null,
      );
      assert.ok(file);
      await env.admin.mutate({ op: 'share', driveId: drive.id, itemId: file.id, kind: 'anonymous' });
      await waitFor('the share through the new subscription', () => anonymousLinkOn(env, file.id), {
        timeoutMs: 15_000,
        intervalMs: 50,
      });

      // missed: notifications were lost, so the drive is caught up by a delta run.
      await env.admin.mutate({ op: 'setNotificationDelivery', enabled: false });
      const other = (await env.admin.items(drive.id)).find(
        (i) => !i.isFolder && !i.deleted && i.sharedScope === null && i.id !== file.id,
      );
      assert.ok(other);
      await env.admin.mutate({ op: 'share', driveId: drive.id, itemId: other.id, kind: 'anonymous' });
      await env.admin.mutate({ op: 'setNotificationDelivery', enabled: true });
      await lifecycle(replacement.id, 'missed');
      await waitFor('the missed change after the lifecycle event', () => anonymousLinkOn(env, other.id), {
        timeoutMs: 15_000,
        intervalMs: 50,
      });
    } finally {
      await agent.close();
      await env.close();
    }
  });
});
