/**
 * realtime: a synced tenant served by the product's service (startService, as `drivewarden
 * serve` embedded: webhooks on, the simulator delivering change notifications to the
 * receiver over http on loopback, delta runs and rule evaluations as jobs on its in-process
 * queue), then mutations spread over time through the simulator's admin API. For each
 * mutation: time from the admin API's answer until the change is committed in the store (a
 * separate read-only SQLite connection polls every few ms). At the end the inventory must
 * equal the ground truth. Alerts: every Anyone link shared becomes a finding
 * (permission_anonymous_link_absent, evaluated by the rules.evaluate job queued after each
 * delta run) and an alert at a webhook receiver in this process; time from the admin API's
 * answer until the alert arrives.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { SimMutation } from '../../sim/contracts.ts';
import { numberFlag, percentile, type Scenario } from '../harness.ts';
import { prng } from '../lib/prng.ts';
import { startSimProcess } from '../lib/processes.ts';
import { addIntegration, checkAgainstTruth, productEnv, runSync } from '../lib/product.ts';
import { startBenchService } from '../lib/service.ts';
import { profileArgs, scenarioDir, sleep } from '../lib/temp.ts';

interface Pending {
  op: string;
  answeredAt: number;
  visible(): boolean;
  resolve(ms: number | null): void;
}

export const realtime: Scenario = {
  name: 'realtime',
  description: 'mutation → visible in the inventory, through webhooks and delta (p50/p95/p99)',
  async run(ctx) {
    const users = numberFlag(ctx, 'users', 50, 6);
    const items = numberFlag(ctx, 'items', 20_000, 600);
    const mutations = numberFlag(ctx, 'mutations', 200, 12);
    const minGap = numberFlag(ctx, 'min-gap-ms', 50, 50);
    const maxGap = numberFlag(ctx, 'max-gap-ms', 250, 150);
    const timeoutMs = numberFlag(ctx, 'timeout-ms', 30_000, 30_000);
    const rand = prng(numberFlag(ctx, 'seed', 1, 1));
    const tmp = scenarioDir('realtime', ctx.flags.keep === 'true');
    const sim = await startSimProcess(
      tmp.dir,
      ['--seed', '1', '--users', String(users), '--items', String(items), '--allow-http-notifications'],
      { extraNodeArgs: profileArgs(ctx.flags, 'sim') },
    );
    let bench: Awaited<ReturnType<typeof startBenchService>> | undefined;
    let reader: Database.Database | undefined;
    try {
      const p = productEnv(tmp.dir);
      const integrationId = await addIntegration(p, sim);
      await runSync(p);
      ctx.log('tenant synced; starting the service');
      bench = await startBenchService(p.dataDir, integrationId);
      await sleep(500);
      await bench.idle();

      // What to mutate: files and folders of a few drives, as the simulator lists them.
      const drives = (await sim.admin.drives()).filter((d) => d.itemCount > 1).slice(0, 10);
      const files: Array<{ driveId: string; id: string }> = [];
      const folders: Array<{ driveId: string; id: string }> = [];
      for (const d of drives) {
        for (const it of await sim.admin.items(d.id)) {
          if (it.deleted) continue;
          (it.isFolder ? folders : files).push({ driveId: d.id, id: it.id });
        }
      }
      if (files.length === 0 || folders.length === 0)
        throw new Error('tenant too small: no files or folders');
      const pick = <T>(list: T[]) => list[Math.floor(rand() * list.length)];
      const takeFile = () => files.splice(Math.floor(rand() * files.length), 1)[0];

      reader = new Database(join(p.dataDir, 'drivewarden.db'), { readonly: true, fileMustExist: true });
      const itemRow = reader.prepare(
        'select name, size, deleted_at from drive_items where integration_id = ? and drive_id = ? and id = ?',
      );
      const permRow = reader.prepare(
        'select deleted_at from permissions where integration_id = ? and drive_id = ? and item_id = ? and id = ?',
      );
      const anyoneLinkRow = reader.prepare(
        "select 1 from permissions where integration_id = ? and drive_id = ? and item_id = ? and link_scope = 'anonymous' and deleted_at is null",
      );
      // permission_anonymous_link_absent's finding is the item's: only a file's first Anyone
      // link opens it (and alerts), later ones leave it open.
      const anyoneShared = new Set<string>();
      type ItemRow = { name: string | null; size: number | null; deleted_at: string | null } | undefined;
      const item = (driveId: string, id: string) => itemRow.get(integrationId, driveId, id) as ItemRow;

      const pending = new Set<Pending>();
      const watcher = setInterval(() => {
        const now = performance.now();
        for (const w of pending) {
          if (w.visible()) {
            pending.delete(w);
            w.resolve(now - w.answeredAt);
          } else if (now - w.answeredAt > timeoutMs) {
            pending.delete(w);
            w.resolve(null);
          }
        }
      }, 3);
      const latencies: number[] = [];
      const alertLatencies: number[] = [];
      let alertsUnseen = 0;
      const byOp: Record<string, number[]> = {};
      let unseen = 0;
      const waits: Promise<void>[] = [];
      const watch = (op: string, answeredAt: number, visible: () => boolean) => {
        waits.push(
          new Promise<void>((ok) => {
            pending.add({
              op,
              answeredAt,
              visible,
              resolve: (ms) => {
                if (ms === null) unseen++;
                else {
                  latencies.push(ms);
                  if (!byOp[op]) byOp[op] = [];
                  byOp[op].push(ms);
                }
                ok();
              },
            });
          }),
        );
      };

      ctx.log(`${mutations} mutations over ${drives.length} drives`);
      for (let k = 0; k < mutations; k++) {
        const r = rand();
        if (r < 0.3 || files.length < 5) {
          const parent = pick(folders);
          const name = `bench-${k}.txt`;
          const m: SimMutation = {
            op: 'createItem',
            driveId: parent.driveId,
            parentId: parent.id,
            name,
            size: 1000 + k,
          };
          const res = await sim.admin.mutate<{ itemId: string }>(m);
          const at = performance.now();
          files.push({ driveId: parent.driveId, id: res.itemId });
          watch('create', at, () => {
            const row = item(parent.driveId, res.itemId);
            return !!row && row.deleted_at === null && row.name === name;
          });
        } else if (r < 0.55) {
          const f = pick(files);
          const name = `renamed-${k}.docx`;
          await sim.admin.mutate({ op: 'renameItem', driveId: f.driveId, itemId: f.id, name });
          const at = performance.now();
          watch('rename', at, () => item(f.driveId, f.id)?.name === name);
        } else if (r < 0.7) {
          const f = pick(files);
          const size = 5_000_000 + k;
          await sim.admin.mutate({ op: 'modifyItem', driveId: f.driveId, itemId: f.id, size });
          const at = performance.now();
          watch('modify', at, () => Number(item(f.driveId, f.id)?.size) === size);
        } else if (r < 0.9) {
          const f = pick(files);
          const firstLink = !anyoneShared.has(f.id) && !anyoneLinkRow.get(integrationId, f.driveId, f.id);
          anyoneShared.add(f.id);
          const res = await sim.admin.mutate<{ permissionId: string }>({
            op: 'share',
            driveId: f.driveId,
            itemId: f.id,
            kind: 'anonymous',
            linkType: 'view',
          });
          const at = performance.now();
          watch('share', at, () => {
            const row = permRow.get(integrationId, f.driveId, f.id, res.permissionId) as
              | { deleted_at: string | null }
              | undefined;
            return !!row && row.deleted_at === null;
          });
          const arrivals = bench.arrivals;
          if (firstLink)
            waits.push(
              new Promise<void>((ok) => {
                pending.add({
                  op: 'alert',
                  answeredAt: at,
                  visible: () => arrivals.has(f.id),
                  resolve: (ms) => {
                    if (ms === null) alertsUnseen++;
                    // The receiver's own arrival time, not the watcher's poll.
                    else alertLatencies.push((arrivals.get(f.id) ?? at) - at);
                    ok();
                  },
                });
              }),
            );
        } else {
          const f = takeFile();
          await sim.admin.mutate({ op: 'deleteItem', driveId: f.driveId, itemId: f.id });
          const at = performance.now();
          watch('delete', at, () => {
            const row = item(f.driveId, f.id);
            return !row || row.deleted_at !== null;
          });
        }
        await sleep(minGap + rand() * (maxGap - minGap));
      }
      await Promise.all(waits);
      clearInterval(watcher);
      await bench.idle();
      const check = await checkAgainstTruth(bench.app.store, integrationId, sim.admin);
      if (!check.correct) ctx.log(`inventory differs from the truth:\n${check.detail}`);
      const counters = await sim.admin.counters();
      const opP95 = Object.fromEntries(
        Object.entries(byOp).map(([op, v]) => [`${op}_p95_ms`, Math.round(percentile(v, 95))]),
      );
      return {
        mutations,
        seen: latencies.length,
        unseen,
        inventory_p50_ms: Math.round(percentile(latencies, 50)),
        inventory_p95_ms: Math.round(percentile(latencies, 95)),
        inventory_p99_ms: Math.round(percentile(latencies, 99)),
        inventory_max_ms: Math.round(Math.max(...latencies)),
        alerts_seen: alertLatencies.length,
        alerts_unseen: alertsUnseen,
        alert_p50_ms: Math.round(percentile(alertLatencies, 50)),
        alert_p99_ms: Math.round(percentile(alertLatencies, 99)),
        alert_max_ms: Math.round(Math.max(...alertLatencies)),
        ...opP95,
        delta_runs: bench.deltaRuns(),
        debounce_ms: bench.app.config.sync.debounceMs,
        notifications_delivered: counters.notificationsDelivered,
        correct: check.correct,
      };
    } finally {
      reader?.close();
      await bench?.close().catch((err) => ctx.log(`closing the service: ${(err as Error).message}`));
      await sim.close();
      tmp.cleanup();
    }
  },
};
