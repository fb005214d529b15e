import type { Command } from 'commander';
import { parseSimArgs, runSimulatorProcess } from '../../../sim/main.ts';

/** `drivewarden sim`: runs the Microsoft Graph simulator and prints its connection info as one JSON line. */
export function registerSimCommand(program: Command): void {
  program
    .command('sim')
    .description('Run the Microsoft Graph simulator (prints one JSON line with its connection info)')
    .allowUnknownOption(false)
    .option('--seed <n>', 'tenant generator seed', '1')
    .option('--users <n>', 'number of users', '50')
    .option('--items <n>', 'number of drive items', '2000')
    .option('--port <n>', 'listen port on 127.0.0.1 (0 = random)', '0')
    .option('--ru-budget <n>', 'resource units per minute (default: unlimited)')
    .option('--time-scale <n>', 'budget minute divisor (60 → a minute lasts 1 s)')
    .option('--latency-ms <n>', 'added latency per request, uniform 0..n ms')
    .option('--allow-http-notifications', 'deliver notifications to http:// loopback URLs')
    .option('--state-dir <dir>', 'where the CA and certificates are written (default: a temp dir)')
    .option('--reference-time <iso>', "the generator's now (default: today 00:00 UTC)")
    .option('--faults <json>', 'JSON array of fault rules served from the start')
    .action(async (opts: Record<string, string | boolean | undefined>) => {
      const argv: string[] = [];
      const flags: Record<string, string> = {
        seed: '--seed',
        users: '--users',
        items: '--items',
        port: '--port',
        ruBudget: '--ru-budget',
        timeScale: '--time-scale',
        latencyMs: '--latency-ms',
        stateDir: '--state-dir',
        referenceTime: '--reference-time',
        faults: '--faults',
      };
      for (const [key, flag] of Object.entries(flags))
        if (typeof opts[key] === 'string') argv.push(flag, opts[key] as string);
      if (opts.allowHttpNotifications) argv.push('--allow-http-notifications');
      await runSimulatorProcess(parseSimArgs(argv));
    });
}
