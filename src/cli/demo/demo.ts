import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { SimAdminClient } from '../../../sim/admin-client.ts';
import type { SimMutation } from '../../../sim/contracts.ts';
import { simCredentials, startSimulator } from '../../../sim/index.ts';
import { openApp } from '../../app/context.ts';
import { progressPrinter } from '../../app/progress.ts';
import { runRules } from '../../app/rules.ts';
import { syncOnce } from '../../app/sync-once.ts';
import { ensureFirstAdmin } from '../../auth/first-admin.ts';
import { updateUser, userByName } from '../../auth/users.ts';
import { type ChangeBatch, changes } from '../../collect/change-stream.ts';
import { probeIntegration } from '../../integrations/probe.ts';
import { formatTable } from '../../query/format.ts';
import { queryTargetOf, runReadOnlyQuery } from '../../query/run-query.ts';
import { startService } from '../../server/service.ts';
import type { Database } from '../../store/schema.ts';
import { changeLines } from './change-lines.ts';
import { findingEventLines, findingSummary, lastFindingEventId } from './finding-lines.ts';

/**
 * `drivewarden demo`: the whole product against the built-in Graph simulator. A generated
 * tenant is connected like a real one, collected in full, then kept current through
 * webhooks while a little simulated user activity (sharing, uploads, renames) goes on.
 */
export interface DemoOptions {
  users: number;
  items: number;
  port: number;
  /** Seconds between simulated user actions; 0 = none. */
  activitySeconds: number;
  /** Stop after the first collection and the summary (tests). */
  exitAfterSync: boolean;
}

const SUMMARY_SQL = `
select
  (select count(*) from users where deleted_at is null) as users,
  (select count(*) from users where deleted_at is null and user_type = 'Guest') as guests,
  (select count(*) from drives where deleted_at is null) as drives,
  (select count(*) from drive_items where deleted_at is null) as items,
  (select count(*) from permissions where deleted_at is null) as permissions,
  (select count(*) from permissions where deleted_at is null and link_scope = 'anonymous') as anonymous_links,
  (select count(*) from permissions where deleted_at is null and is_external = true) as external_grants`;

export async function runDemo(opts: DemoOptions): Promise<void> {
  const base = await openApp(process.env.DW_LOG_LEVEL ? {} : { logLevel: 'warn' });
  const dataDir = join(base.config.dataDir, 'demo');
  await base.close();
  const app = await openApp({
    ...(process.env.DW_LOG_LEVEL ? {} : { logLevel: 'warn' }),
    dataDir,
    'server.port': opts.port,
    'server.publicUrl': `http://127.0.0.1:${opts.port}`,
  });
  const log = (line: string) => process.stdout.write(`${line}\n`);
  if (!opts.exitAfterSync) await assertPortFree(opts.port);

  log(`starting the Microsoft Graph simulator: ${opts.users} users, ~${opts.items} items…`);
  const sim = await startSimulator({
    seed: 42,
    users: opts.users,
    items: opts.items,
    allowHttpNotifications: true,
    stateDir: join(dataDir, 'sim'),
  });
  const admin = new SimAdminClient(sim);
  let service: Awaited<ReturnType<typeof startService>> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let findingsTimer: NodeJS.Timeout | undefined;
  const cleanup = async () => {
    if (timer) clearInterval(timer);
    if (findingsTimer) clearInterval(findingsTimer);
    await service?.close();
    await admin.close();
    await sim.close();
    await app.close();
  };

  try {
    // The simulator's credentials change each start: connect afresh.
    const old = await app.integrations.get('demo');
    if (old) await app.integrations.delete(old.id);
    const integration = await app.integrations.create({
      name: 'demo',
      ...simCredentials(sim),
    });
    const client = app.graphClientFor(await app.integrations.getWithCredentials(integration.id));
    const probe = await probeIntegration(client, sim.tenantId);
    await client.close();
    await app.integrations.setProbe(
      integration.id,
      Object.fromEntries(probe.map((p) => [p.capability, p.status === 'skipped' ? 'error' : p.status])),
    );
    log(
      `connected tenant ${sim.tenantId}: ${probe.filter((p) => p.status === 'granted').length}/${probe.length} permissions granted`,
    );

    log('collecting the full inventory…');
    const [result] = await syncOnce(app, {
      integration: integration.id,
      full: true,
      progress: () => progressPrinter(),
    });
    log(
      `collected ${result.items} items in ${((Date.parse(result.finishedAt) - Date.parse(result.startedAt)) / 1000).toFixed(1)} s, ` +
        `${result.graph.requests} Graph requests, ${result.graph.ruSpent} resource units`,
    );
    const summary = await runReadOnlyQuery(queryTargetOf(app.store, app.config.query.pgRole), SUMMARY_SQL, {
      limits: app.config.query,
    });
    log(formatTable(summary));
    await runRules(app, { integration: integration.id, full: true });
    for (const line of await findingSummary(app.store.db)) log(line);
    log(
      `\nquery it yourself: DW_DATA_DIR=${dataDir} npm run dw -- query run shared-with-anyone\n` +
        '(drivewarden query list shows the other examples; docs/queries.md explains them)',
    );
    if (opts.exitAfterSync) return;

    service = await startService(app, { listen: { host: '127.0.0.1', port: opts.port } });
    await service.ready;
    const signIn = await demoAdmin(app.store.db);
    log(
      `\nweb app: http://127.0.0.1:${opts.port}/ (sign in as "${signIn.username}" with password ${signIn.password}; ` +
        `API reference at http://127.0.0.1:${opts.port}/docs)`,
    );
    log(
      `\nwatching in real time (webhooks to ${app.config.server.publicUrl}, polling every ${app.config.sync.pollIntervalSeconds} s); Ctrl-C to stop`,
    );

    // Finding events as the service's rules write them (opened, resolved, …).
    let lastEvent = await lastFindingEventId(app.store.db);
    findingsTimer = setInterval(() => {
      void findingEventLines(app.store.db, lastEvent).then(
        ({ lines, lastId }) => {
          lastEvent = lastId;
          for (const line of lines) log(line);
        },
        (err: unknown) => log(`  (could not read findings: ${(err as Error).message})`),
      );
    }, 500);

    const started = new Map<string, number>();
    changes.on('changes', (batch: ChangeBatch) => {
      const seenAt = Date.now();
      const suffix = (c: { id: string; scope: Record<string, string> }) => {
        const t = started.get(c.scope.item_id ?? c.id);
        return t ? ` (${seenAt - t} ms after the change in the tenant)` : '';
      };
      void changeLines(app.store.db, batch, { suffix }).then(
        (lines) => {
          for (const line of lines) log(line);
        },
        (err: unknown) => log(`  (could not describe a change: ${(err as Error).message})`),
      );
    });
    if (opts.activitySeconds > 0) {
      const drives = await admin.drives();
      timer = setInterval(() => {
        void simulateActivity(
          admin,
          drives[Math.floor(Math.random() * drives.length)].id,
          started,
          log,
        ).catch((err) => log(`activity failed: ${(err as Error).message}`));
      }, opts.activitySeconds * 1000);
    }
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
  } finally {
    await cleanup();
  }
}

/**
 * The demo's admin: a fresh random password each run (the demo's data is throwaway and the
 * terminal shows it), not one to change at first sign-in.
 */
async function demoAdmin(db: Kysely<Database>): Promise<{ username: string; password: string }> {
  const password = randomBytes(12).toString('base64url');
  await ensureFirstAdmin(db, { password });
  const admin = await userByName(db, 'admin');
  await updateUser(db, admin.id, { password, mustChangePassword: false });
  return { username: 'admin', password };
}

/** Fails fast, before the collection, when the server's port is taken. */
async function assertPortFree(port: number): Promise<void> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(`port ${port} is already in use: run the demo with --port <another port>`)
          : err,
      ),
    );
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve()));
  });
}

async function simulateActivity(
  admin: SimAdminClient,
  driveId: string,
  started: Map<string, number>,
  log: (line: string) => void,
): Promise<void> {
  const items = (await admin.items(driveId)).filter((i) => !i.deleted && i.parentId !== null);
  const files = items.filter((i) => !i.isFolder);
  const folders = items.filter((i) => i.isFolder);
  if (files.length === 0 || folders.length === 0) return;
  const file = files[Math.floor(Math.random() * files.length)];
  const folder = folders[Math.floor(Math.random() * folders.length)];
  const actions: Array<[string, SimMutation]> = [
    [
      `shares ${file.path} with an "Anyone" link`,
      { op: 'share', driveId, itemId: file.id, kind: 'anonymous', linkType: 'view' },
    ],
    [
      `shares ${file.path} with an external address`,
      { op: 'share', driveId, itemId: file.id, kind: 'external', email: 'partner@fabrikam.example' },
    ],
    [
      `uploads a file into ${folder.path}`,
      { op: 'createItem', driveId, parentId: folder.id, name: `notes-${Date.now()}.txt`, size: 2048 },
    ],
    [`renames ${file.path}`, { op: 'renameItem', driveId, itemId: file.id, name: `renamed-${file.name}` }],
  ];
  const [what, mutation] = actions[Math.floor(Math.random() * actions.length)];
  started.set(file.id, Date.now());
  log(`tenant: a user ${what}`);
  await admin.mutate(mutation);
}
