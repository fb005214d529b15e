import type { Command } from 'commander';
import { withApp } from '../../app/context.ts';
import { requireIntegration } from '../../app/rules.ts';
import { formatJson, formatRows, formatTable, parseOutputFormat } from '../../query/format.ts';
import { findingWithEvents, listFindings } from '../../rules/findings-query.ts';
import {
  liftSuppression,
  listSuppressions,
  suppressFinding,
  suppressRule,
} from '../../rules/suppressions.ts';
import { actorOf } from './rules.ts';

const list = (v: string | undefined) =>
  v
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);

function positiveId(text: string, what: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0)
    throw new Error(`${what} must be a positive whole number, got "${text}"`);
  return n;
}

const LIST_COLUMNS = [
  'id',
  'status',
  'severity',
  'rule_id',
  'result',
  'resource_type',
  'resource_path',
  'resource_name',
  'resource_owner',
  'reason',
  'last_seen',
];

export function registerFindings(program: Command): void {
  const cmd = program.command('findings').description('what the rules found: list, inspect, suppress');

  cmd
    .command('list')
    .description('findings, newest first')
    .option('--status <list>', 'open, resolved, suppressed (comma-separated)', 'open')
    .option('--severity <list>', 'info, low, medium, high, critical (comma-separated)')
    .option('--rule <id>', 'one rule')
    .option('--integration <name>', 'one integration')
    .option('--format <format>', 'table, json or csv', 'table')
    .option('--limit <n>', 'at most this many', '1000')
    .action(
      async (opts: {
        status: string;
        severity?: string;
        rule?: string;
        integration?: string;
        format: string;
        limit: string;
      }) => {
        const format = parseOutputFormat(opts.format);
        const limit = positiveId(opts.limit, '--limit');
        await withApp(async (app) => {
          const integration = opts.integration ? await requireIntegration(app, opts.integration) : undefined;
          const statuses = list(opts.status);
          const rows = await listFindings(app.store.db, {
            integrationId: integration?.id,
            statuses: statuses?.includes('all') ? undefined : statuses,
            severities: list(opts.severity),
            ruleId: opts.rule,
            limit,
          });
          const all = rows as Array<Record<string, unknown>>;
          // JSON carries every column; the table and CSV the ones people scan.
          const out =
            format === 'json'
              ? formatJson({ columns: Object.keys(all[0] ?? {}), rows: all })
              : formatRows({ columns: LIST_COLUMNS, rows: all, truncated: rows.length === limit }, format);
          process.stdout.write(format === 'csv' ? out : `${out}\n`);
        });
      },
    );

  cmd
    .command('show <id>')
    .description('one finding with every transition it went through')
    .action(async (id: string) => {
      await withApp(async (app) => {
        const { finding, events } = await findingWithEvents(app.store.db, positiveId(id, 'the finding id'));
        console.log(JSON.stringify(finding, null, 2));
        console.log(
          formatTable({
            columns: ['at', 'event', 'result', 'severity', 'actor', 'reason'],
            rows: events as Array<Record<string, unknown>>,
            truncated: false,
          }),
        );
      });
    });

  cmd
    .command('suppress <id>')
    .description('suppress one finding (it stays suppressed while the rule alarms, until --until)')
    .requiredOption('--reason <text>', 'why')
    .option('--until <iso>', 'when the suppression ends (ISO-8601)')
    .option('--actor <name>', 'who (default the OS user)')
    .action(async (id: string, opts: { reason: string; until?: string; actor?: string }) => {
      await withApp(async (app) => {
        const s = await suppressFinding(app.store, positiveId(id, 'the finding id'), {
          reason: opts.reason,
          actor: actorOf(opts),
          until: opts.until,
        });
        console.log(
          `suppression ${s.id}: finding ${id} suppressed${s.expires_at ? ` until ${s.expires_at}` : ''}`,
        );
      });
    });

  cmd
    .command('suppress-rule <rule>')
    .description("suppress a rule's findings (optionally of one integration, of resources matching a glob)")
    .requiredOption('--reason <text>', 'why')
    .option('--pattern <glob>', 'path, name or id pattern: * within a folder, ** across, ? one character')
    .option('--integration <name>', 'only this integration (default every one)')
    .option('--until <iso>', 'when the suppression ends (ISO-8601)')
    .option('--actor <name>', 'who (default the OS user)')
    .action(
      async (
        ruleId: string,
        opts: { reason: string; pattern?: string; integration?: string; until?: string; actor?: string },
      ) => {
        await withApp(async (app) => {
          const integration = opts.integration ? await requireIntegration(app, opts.integration) : undefined;
          const { suppression, suppressed } = await suppressRule(
            app.store,
            { ruleId, integrationId: integration?.id ?? null, pattern: opts.pattern ?? null },
            { reason: opts.reason, actor: actorOf(opts), until: opts.until },
          );
          console.log(
            `suppression ${suppression.id}: rule ${ruleId}, ${suppressed} open finding(s) suppressed now`,
          );
        });
      },
    );

  cmd
    .command('unsuppress <suppression-id>')
    .description('lift a suppression: the findings it held open again')
    .option('--actor <name>', 'who (default the OS user)')
    .action(async (id: string, opts: { actor?: string }) => {
      await withApp(async (app) => {
        const { unsuppressed } = await liftSuppression(
          app.store,
          positiveId(id, 'the suppression id'),
          actorOf(opts),
        );
        console.log(`suppression ${id} lifted; ${unsuppressed} finding(s) open again`);
      });
    });

  cmd
    .command('suppressions')
    .description('active suppressions (--all: lifted and expired too)')
    .option('--all', 'every suppression')
    .action(async (opts: { all?: boolean }) => {
      await withApp(async (app) => {
        const rows = await listSuppressions(app.store.db, { all: opts.all });
        console.log(
          formatTable({
            columns: [
              'id',
              'rule_id',
              'finding_id',
              'integration_id',
              'resource_pattern',
              'actor',
              'expires_at',
              'lifted_at',
              'reason',
            ],
            rows: rows as unknown as Array<Record<string, unknown>>,
            truncated: false,
          }),
        );
      });
    });
}
