import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { commands } from './commands/index.ts';
import { buildProgram, commandModulesFor } from './program.ts';

const BIN = fileURLToPath(new URL('../../bin/drivewarden.js', import.meta.url));
const IMPORT_LOG = fileURLToPath(new URL('../../test/support/import-log/register.mjs', import.meta.url));
const COMMANDS_DIR = new URL('./commands/', import.meta.url).href;

/** Every command of the program and its subcommands, with the words that name it. */
function commandPaths(cmd: Command, path: string[] = []): Array<{ path: string[]; cmd: Command }> {
  return cmd.commands.flatMap((c) => [
    { path: [...path, c.name()], cmd: c },
    ...commandPaths(c, [...path, c.name()]),
  ]);
}

function find(program: Command, path: string[]): Command {
  let cmd = program;
  for (const word of path) {
    const next = cmd.commands.find((c) => c.name() === word);
    assert.ok(next, `no command ${path.join(' ')}`);
    cmd = next;
  }
  return cmd;
}

/** Runs the CLI from the sources with the import log on: its exit, stdout and command files loaded. */
function runLogged(args: string[]): { status: number | null; stdout: string; loaded: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'dw-import-log-'));
  try {
    const log = join(dir, 'imports.log');
    const run = spawnSync(process.execPath, ['--import', IMPORT_LOG, BIN, ...args], {
      env: {
        ...process.env,
        DW_RUN_SOURCES: '1',
        DW_IMPORT_LOG: log,
        DW_DATA_DIR: dir,
        DW_LOG_LEVEL: 'warn',
      },
      encoding: 'utf8',
    });
    assert.equal(run.stderr, '', `drivewarden ${args.join(' ')}`);
    const urls = readFileSync(log, 'utf8').split('\n');
    const loaded = [...new Set(urls.filter((u) => u.startsWith(COMMANDS_DIR)))]
      .map((u) => u.slice(COMMANDS_DIR.length))
      .sort();
    return { status: run.status, stdout: run.stdout, loaded };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('the CLI loads only the command it runs', () => {
  it('each command file registers exactly the top-level commands its entry names', async () => {
    for (const m of commands) {
      const program = new Command();
      (await m.load())(program);
      const names = program.commands.flatMap((c) => [c.name(), ...c.aliases()]);
      assert.deepEqual(names, [...m.names]);
    }
  });

  it('the program takes only flags without values, so the first other word is the command', async () => {
    const program = await buildProgram();
    for (const o of program.options) assert.ok(!o.required && !o.optional, `${o.flags} takes a value`);
  });

  it('picks the file of the named command, every file for help and the unknown, none for --version', () => {
    const users = commands.find((m) => m.names.includes('tokens'));
    assert.deepEqual(commandModulesFor(['status', '--json']), [
      commands.find((m) => m.names[0] === 'status'),
    ]);
    assert.deepEqual(commandModulesFor(['tokens', 'list']), [users]);
    assert.deepEqual(commandModulesFor(['-v', 'query', 'run', 'x', '--format', 'csv']).length, 1);
    assert.deepEqual(commandModulesFor(['--version']), []);
    assert.deepEqual(commandModulesFor(['-v']), []);
    for (const args of [
      [],
      ['--help'],
      ['-h'],
      ['--help', 'status'],
      ['-x', 'status'],
      ['help', 'status'],
      ['statsu'],
      ['-v', '-h'],
    ])
      assert.equal(
        commandModulesFor(args),
        commands,
        `drivewarden ${args.join(' ')} loads every command file`,
      );
  });

  it('the help of the program and of every command and subcommand is the same as with every file loaded', async () => {
    const whole = await buildProgram(commands);
    const top = await buildProgram(commandModulesFor(['--help']));
    assert.equal(top.helpInformation(), whole.helpInformation());
    const paths = commandPaths(whole);
    assert.ok(paths.length > 60, `only ${paths.length} commands`);
    for (const { path, cmd } of paths) {
      const lazy = await buildProgram(commandModulesFor([...path, '--help']));
      assert.equal(
        find(lazy, path).helpInformation(),
        cmd.helpInformation(),
        `drivewarden ${path.join(' ')} --help`,
      );
    }
  });

  it('`drivewarden --help` lists every command, `status` and `--version` import only what they need', async () => {
    const whole = await buildProgram(commands);
    const help = runLogged(['--help']);
    assert.equal(help.status, 0);
    assert.equal(help.stdout, whole.helpInformation());
    for (const m of commands)
      for (const name of m.names) assert.match(help.stdout, new RegExp(`^  ${name} `, 'm'));
    assert.ok(help.loaded.length > commands.length, help.loaded.join(' '));

    const status = runLogged(['status']);
    assert.equal(status.status, 0);
    assert.match(status.stdout, /no integrations/);
    assert.deepEqual(status.loaded, ['index.ts', 'status.ts']);

    const version = runLogged(['--version']);
    assert.equal(version.status, 0);
    assert.match(version.stdout, /^\d+\.\d+\.\d+/);
    assert.deepEqual(version.loaded, ['index.ts']);
  });
});
