import { Command } from 'commander';
import { ConfigError } from '../config/config.ts';
import { VERSION } from '../version.ts';
import { commands } from './commands/index.ts';

/** The `drivewarden` command line. Each sub-command lives in ./commands/<name>.ts. */
const program = new Command()
  .name('drivewarden')
  .description('Self-hosted OneDrive inventory and security monitor for Microsoft 365')
  .version(VERSION, '-v, --version')
  // A command's options stay its own where it has subcommands of its own (`query run x --format csv`).
  .enablePositionalOptions()
  .showHelpAfterError();

for (const register of commands) register(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(2);
  }
  console.error(`drivewarden: ${(err as Error).message}`);
  process.exit(1);
}
