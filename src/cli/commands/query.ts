import type { Command } from 'commander';
import { withApp } from '../../app/context.ts';
import { formatTable, runReadOnlyQuery } from '../../query/run-query.ts';

export function registerQuery(program: Command): void {
  program
    .command('query <sql>')
    .description(
      'run a read-only SQL query over the inventory (tables: users, drives, drive_items, permissions, changes, …)',
    )
    .option('--limit <n>', 'at most this many rows', '1000')
    .option('--json', 'print JSON rows')
    .action(async (sqlText: string, opts: { limit: string; json?: boolean }) => {
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit <= 0) throw new Error('--limit must be a positive whole number');
      await withApp(async (app) => {
        const result = await runReadOnlyQuery(
          { sqliteFile: app.store.file, databaseUrl: app.config.databaseUrl, schema: app.store.schema },
          sqlText,
          { limit },
        );
        console.log(opts.json ? JSON.stringify(result.rows) : formatTable(result));
      });
    });
}
