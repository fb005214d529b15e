import { Command } from 'commander';
import { VERSION } from '../version.ts';
import { type CommandModule, commands } from './commands/index.ts';

const VERSION_FLAGS = new Set(['-v', '--version']);

/**
 * The command files a run with these arguments (process.argv without node and the script)
 * needs. The program's own options are flags that take no value, so the first argument that is
 * no flag names the command: that file alone. Anything else (no command, `help`, a typo that
 * commander answers with "did you mean", --help or an unknown flag before the command) gets
 * every file, so help and errors stay whole; a bare --version needs none.
 */
export function commandModulesFor(args: readonly string[]): readonly CommandModule[] {
  const at = args.findIndex((a) => !a.startsWith('-'));
  const flags = at === -1 ? args : args.slice(0, at);
  if (!flags.every((a) => VERSION_FLAGS.has(a))) return commands;
  if (at === -1) return flags.length > 0 ? [] : commands;
  const named = commands.find((m) => m.names.includes(args[at]));
  return named ? [named] : commands;
}

/** The `drivewarden` program with the given command files registered, in their listed order. */
export async function buildProgram(modules: readonly CommandModule[] = commands): Promise<Command> {
  const program = new Command()
    .name('drivewarden')
    .description('Self-hosted OneDrive inventory and security monitor for Microsoft 365')
    .version(VERSION, '-v, --version')
    // A command's options stay its own where it has subcommands of its own (`query run x --format csv`).
    .enablePositionalOptions()
    .showHelpAfterError();
  const registers = await Promise.all(modules.map((m) => m.load()));
  for (const register of registers) register(program);
  return program;
}
