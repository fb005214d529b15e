import type { Command } from 'commander';
import { openApp } from '../../app/context.ts';
import { ensureFirstAdmin } from '../../auth/first-admin.ts';
import { electLeader } from '../../server/leader.ts';
import { startService } from '../../server/service.ts';
import { COLLECTOR_HEAP_GROWTH_PERCENT, limitHeapGrowth } from '../../util/heap-growth.ts';
import { openWorkerJobs } from './worker.ts';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description(
      'run drivewarden: collection, webhook receiver, Graph subscriptions and the polling safety net',
    )
    .option('--host <host>', 'listen address (DW_HOST)')
    .option('--port <port>', 'listen port (DW_PORT)')
    .option(
      '--public-url <url>',
      'https URL Graph can reach this server at (DW_PUBLIC_URL); unset = polling only',
    )
    .option('--no-work', 'PostgreSQL: only enqueue jobs, leave them to `drivewarden worker` processes')
    .action(async (opts: { host?: string; port?: string; publicUrl?: string; work: boolean }) => {
      limitHeapGrowth(COLLECTOR_HEAP_GROWTH_PERCENT);
      const app = await openApp({
        'server.host': opts.host,
        'server.port': opts.port,
        'server.publicUrl': opts.publicUrl,
      });
      const first = await ensureFirstAdmin(app.store.db, { password: app.config.auth.adminPassword });
      // Collection runs as jobs. PostgreSQL: any worker takes them (this process too, unless
      // --no-work); SQLite: startService works an in-process queue.
      const jobs = app.store.dialect === 'postgres' ? await openWorkerJobs(app) : undefined;
      if (jobs && opts.work) jobs.queue.work(jobs.all, { concurrency: app.config.sync.concurrency });
      // PostgreSQL: several replicas may serve; the one holding the leader lock runs the schedules.
      const leadership = jobs
        ? await electLeader({
            databaseUrl: app.config.databaseUrl as string,
            namespace: app.store.schema ?? 'public',
            logger: app.logger,
            onLost: () => {
              app.logger.fatal('lost the leader lock session: exiting so no schedule runs twice');
              process.exit(1);
            },
          })
        : undefined;
      const service = await startService(app, { jobs, leadership });
      app.logger.info(`drivewarden listening on ${service.realtime.url}`);
      // Printed once, on stdout (not the log): the only copy of the first admin's password.
      if (first?.oneTimePassword)
        process.stdout.write(
          `first start: sign in at ${service.realtime.url}/ as "${first.username}" with the one-time password ` +
            `${first.oneTimePassword} (you will be asked to change it)\n`,
        );
      const stop = async () => {
        app.logger.info('stopping');
        await service.close();
        await leadership?.close();
        await jobs?.close();
        await app.close();
        process.exit(0);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
