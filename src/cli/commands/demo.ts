import type { Command } from 'commander';
import { runDemo } from '../demo/demo.ts';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run drivewarden against the built-in Microsoft Graph simulator (no tenant needed)')
    .option('--users <n>', 'users in the generated tenant', '50')
    .option('--items <n>', 'files and folders in the generated tenant', '5000')
    .option('--port <n>', 'port of the webhook receiver / server', '8080')
    .option('--activity <seconds>', 'seconds between simulated user actions (0 = none)', '5')
    .option('--exit-after-sync', 'stop after the first collection and its summary')
    .action(
      async (o: {
        users: string;
        items: string;
        port: string;
        activity: string;
        exitAfterSync?: boolean;
      }) => {
        const num = (name: string, v: string) => {
          const n = Number(v);
          if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number, got "${v}"`);
          return n;
        };
        await runDemo({
          users: num('users', o.users),
          items: num('items', o.items),
          port: num('port', o.port),
          activitySeconds: num('activity', o.activity),
          exitAfterSync: Boolean(o.exitAfterSync),
        });
      },
    );
}
