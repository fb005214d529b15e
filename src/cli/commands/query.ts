import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { type AppContext, withApp } from '../../app/context.ts';
import { formatRows, OUTPUT_FORMATS, type OutputFormat, parseOutputFormat } from '../../query/format.ts';
import { parseParamArgs } from '../../query/params.ts';
import { type QueryResult, queryTargetOf, runReadOnlyQuery } from '../../query/run-query.ts';
import { SavedQueries } from '../../query/saved-queries.ts';

interface OutputOptions {
  format: string;
  json?: boolean;
}
interface RunOptions extends OutputOptions {
  limit?: string;
  param: string[];
}

const collect = (value: string, previous: string[]) => [...previous, value];

function outputOptions(cmd: Command): Command {
  return cmd
    .option('--format <format>', `output: ${OUTPUT_FORMATS.join(', ')}`, 'table')
    .option('--json', 'same as --format json');
}

function runOptions(cmd: Command): Command {
  return outputOptions(cmd)
    .option('--limit <n>', 'at most this many rows (default 1000, at most config query.maxRows)')
    .option(
      '--param <name=value>',
      'value of a :name parameter (repeatable; :now is the current time)',
      collect,
      [],
    );
}

function formatOf(opts: OutputOptions): OutputFormat {
  return opts.json ? 'json' : parseOutputFormat(opts.format);
}

function limitOf(app: AppContext, value: string | undefined): number {
  const limit = value === undefined ? Math.min(1000, app.config.query.maxRows) : Number(value);
  if (!Number.isInteger(limit) || limit <= 0) throw new Error('--limit must be a positive whole number');
  if (limit > app.config.query.maxRows)
    throw new Error(
      `--limit ${limit} is above query.maxRows (${app.config.query.maxRows}); raise it in the config`,
    );
  return limit;
}

function print(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** Rows to stdout; a cut-off result is said on stderr too (JSON and CSV have no footer). */
function printResult(result: QueryResult, format: OutputFormat, limit: number): void {
  print(formatRows(result, format));
  if (result.truncatedBy === 'rows')
    process.stderr.write(`rows cut off at ${limit} (--limit, config query.maxRows)\n`);
  if (result.truncatedBy === 'bytes') process.stderr.write('rows cut off at config query.maxBytes\n');
}

export function registerQuery(program: Command): void {
  const query = runOptions(
    program
      .command('query')
      .argument('[sql]', 'a SELECT over the inventory (docs/tables.md, docs/queries.md)')
      .description(
        'run read-only SQL over the inventory (users, drives, drive_items, permissions, grants, changes, …); ' +
          'subcommands keep queries by name',
      )
      // `query run x --format csv`: the subcommand's own options, not these (main.ts enables it above too).
      .enablePositionalOptions(),
  ).action(async (sqlText: string | undefined, opts: RunOptions, cmd: Command) => {
    if (sqlText === undefined) cmd.help({ error: true });
    const format = formatOf(opts);
    await withApp(async (app) => {
      const limit = limitOf(app, opts.limit);
      const result = await runReadOnlyQuery(queryTargetOf(app.store, app.config.query.pgRole), sqlText!, {
        params: parseParamArgs(opts.param),
        limit,
        limits: app.config.query,
      });
      printResult(result, format, limit);
    });
  });

  const saved = (app: AppContext) =>
    new SavedQueries(app.store, { limits: app.config.query, pgRole: app.config.query.pgRole });

  runOptions(
    query.command('run <name>').description('run a saved query or a built-in example by name'),
  ).action(async (name: string, opts: RunOptions) => {
    const format = formatOf(opts);
    await withApp(async (app) => {
      const limit = limitOf(app, opts.limit);
      printResult(await saved(app).run(name, parseParamArgs(opts.param), limit), format, limit);
    });
  });

  query
    .command('save <name> <sql>')
    .description('save a query under a name, after checking that it runs on the current inventory')
    .requiredOption('--description <text>', 'what the query answers')
    .option('--replace', 'replace a saved query of that name')
    .action(async (name: string, sqlText: string, opts: { description: string; replace?: boolean }) => {
      await withApp(async (app) => {
        const q = await saved(app).save({
          name,
          description: opts.description,
          sql: sqlText,
          replace: opts.replace,
          createdBy: currentUser(),
        });
        const params = Object.keys(q.params);
        print(
          `saved "${q.name}"${params.length ? ` (parameters: ${params.map((p) => `:${p}`).join(', ')})` : ''}: ` +
            `drivewarden query run ${q.name}`,
        );
      });
    });

  outputOptions(query.command('list').description('list the built-in examples and the saved queries')).action(
    async (opts: OutputOptions) => {
      const format = formatOf(opts);
      await withApp(async (app) => {
        const rows = (await saved(app).list()).map((q) => ({
          name: q.name,
          kind: q.builtIn ? 'example' : 'saved',
          description: q.description,
          params: Object.entries(q.params)
            .map(([k, v]) => (v === null ? `:${k}` : `:${k}=${v}`))
            .join(' '),
          ...(format === 'table' ? {} : { sql: q.sql, created_at: q.createdAt, created_by: q.createdBy }),
        }));
        const columns = Object.keys(rows[0] ?? { name: '', kind: '', description: '', params: '' });
        print(formatRows({ columns, rows }, format));
      });
    },
  );

  query
    .command('delete <name>')
    .description('delete a saved query')
    .action(async (name: string) => {
      await withApp(async (app) => {
        await saved(app).delete(name);
        print(`deleted "${name}"`);
      });
    });
}

function currentUser(): string | null {
  try {
    return userInfo().username;
  } catch {
    return null;
  }
}
