import type { Command } from 'commander';
import type { AppContext } from '../../app/context.ts';
import { openApp } from '../../app/context.ts';
import { type AppJobs, openAppJobs } from '../../app/jobs.ts';
import { COLLECTOR_HEAP_GROWTH_PERCENT, limitHeapGrowth } from '../../util/heap-growth.ts';

/** The queue of a PostgreSQL process; losing its lock session ends the process (its runs are no longer exclusive). */
export function openWorkerJobs(app: AppContext): Promise<AppJobs> {
  return openAppJobs(app, {
    leaseSeconds: app.config.jobs.leaseSeconds,
    maintenanceIntervalSeconds: app.config.jobs.maintenanceIntervalSeconds,
    onLocksLost: () => {
      app.logger.fatal('lost the advisory-lock session: exiting so no run goes on unguarded');
      process.exit(1);
    },
  });
}

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description(
      'take jobs from the queue (PostgreSQL): drive delta runs, start-up collections, directory rounds, rule evaluations',
    )
    .option('--concurrency <n>', 'jobs at once (default DW_SYNC_CONCURRENCY)')
    .option('--per-tenant <n>', 'jobs of one tenant at once (default half the concurrency)')
    .action(async (opts: { concurrency?: string; perTenant?: string }) => {
      limitHeapGrowth(COLLECTOR_HEAP_GROWTH_PERCENT);
      const app = await openApp();
      if (app.store.dialect !== 'postgres') {
        await app.close();
        console.error(
          'drivewarden worker needs PostgreSQL (DW_DATABASE_URL): with the embedded SQLite store, `drivewarden serve` does all the work itself',
        );
        process.exit(2);
      }
      const concurrency = positive(opts.concurrency, '--concurrency') ?? app.config.sync.concurrency;
      const jobs = await openWorkerJobs(app);
      jobs.queue.work(jobs.all, { concurrency, perTenant: positive(opts.perTenant, '--per-tenant') });
      app.logger.info({ concurrency }, 'worker taking jobs');
      const stop = async () => {
        app.logger.info('stopping: finishing the jobs in hand');
        await jobs.close();
        await app.close();
        process.exit(0);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}

function positive(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a whole number ≥ 1, got "${value}"`);
  return n;
}
