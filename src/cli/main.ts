import { ConfigError } from '../config/config.ts';
import { buildProgram, commandModulesFor } from './program.ts';

/**
 * The `drivewarden` command line. Each sub-command lives in ./commands/<name>.ts; only the
 * one this run names is imported (./program.ts), so a command starts without loading the rest.
 */
try {
  const program = await buildProgram(commandModulesFor(process.argv.slice(2)));
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(2);
  }
  console.error(`drivewarden: ${(err as Error).message}`);
  process.exit(1);
}
