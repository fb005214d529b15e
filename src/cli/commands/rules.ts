import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { withApp } from '../../app/context.ts';
import { appFileRules, appRules, requireIntegration, runRules } from '../../app/rules.ts';
import { formatTable } from '../../query/format.ts';
import { findRule } from '../../rules/catalog.ts';
import { checkRuleOnInventory, removeCustomRule, saveCustomRule } from '../../rules/custom-rules.ts';
import type { RuleDefinition } from '../../rules/definition.ts';
import type { EvaluationResult } from '../../rules/evaluate.ts';
import { loadRuleFolder } from '../../rules/loader.ts';
import { frameworksOf } from '../../rules/packs.ts';
import {
  effectiveSetting,
  parseParamAssignments,
  readSettings,
  setRuleEnabled,
  setRuleParams,
} from '../../rules/settings.ts';

/** Who did it, for settings and saved rules: --actor, else the OS user. */
export function actorOf(opts: { actor?: string }): string {
  return opts.actor ?? process.env.USER ?? userInfo().username;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

function describeRun(r: EvaluationResult, name: string): string {
  const f = r.findings;
  const scope = r.scope
    ? ` over ${r.scope.changes} changes (${r.scope.items} items, ${r.scope.drives} drives, ${r.scope.users} users)`
    : '';
  const lines = [
    `${name}: ${r.mode} evaluation${scope} in ${r.durationMs} ms: ${r.rulesRun} rules run${r.rulesBlocked ? `, ${r.rulesBlocked} blocked (data missing)` : ''}; ${r.ok} ok, ${r.alarm} alarm, ${r.error} error; findings ${f.opened} opened, ${f.reopened} reopened, ${f.resolved} resolved, ${f.suppressed} suppressed, ${f.changed} changed`,
  ];
  for (const failed of r.failedRules) lines.push(`  rule ${failed.ruleId} failed: ${failed.message}`);
  return lines.join('\n');
}

function parametersText(rule: RuleDefinition, values?: Record<string, unknown>): string {
  const entries = Object.entries(rule.parameters);
  if (entries.length === 0) return '  (none)';
  return entries
    .map(([name, p]) => {
      const value = values?.[name] ?? p.default;
      return `  ${name} (${p.type}) = ${JSON.stringify(value)}${JSON.stringify(value) !== JSON.stringify(p.default) ? ` (default ${JSON.stringify(p.default)})` : ''}: ${p.description}`;
    })
    .join('\n');
}

export function registerRules(program: Command): void {
  const cmd = program
    .command('rules')
    .description('security rules: list, inspect, test, run, add custom ones, settings per integration');

  cmd
    .command('list')
    .description('every rule (built-in, from rules.folders, saved) with its state for an integration')
    .option('--integration <name>', 'show enabled/disabled for this integration')
    .option('--json', 'print JSON')
    .action(async (opts: { integration?: string; json?: boolean }) => {
      await withApp(async (app) => {
        const rules = await appRules(app);
        const integration = opts.integration ? await requireIntegration(app, opts.integration) : undefined;
        const settings = integration ? await readSettings(app.store.db, integration.id) : new Map();
        const rows = rules.map((r) => ({
          id: r.id,
          severity: r.severity,
          resource: r.resource_type,
          origin: r.origin,
          ...(integration ? { enabled: settings.get(r.id)?.enabled ?? true } : {}),
          title: r.title,
        }));
        if (opts.json) return console.log(JSON.stringify(rows, null, 2));
        console.log(formatTable({ columns: Object.keys(rows[0] ?? { id: '' }), rows, truncated: false }));
      });
    });

  cmd
    .command('show <id>')
    .description("a rule's definition, parameters (with an integration's values) and SQL")
    .option('--integration <name>', 'parameter values and state for this integration')
    .action(async (id: string, opts: { integration?: string }) => {
      await withApp(async (app) => {
        const rule = findRule(await appRules(app), id);
        let values: Record<string, unknown> | undefined;
        let state = '';
        if (opts.integration) {
          const integration = await requireIntegration(app, opts.integration);
          const setting = effectiveSetting(
            rule,
            (await readSettings(app.store.db, integration.id)).get(rule.id),
          );
          values = setting.params;
          state = `\nstate for ${integration.name}: ${setting.enabled ? 'enabled' : 'disabled'}`;
        }
        console.log(
          [
            `${rule.id}: ${rule.title}`,
            `severity ${rule.severity}; resource ${rule.resource_type}; ${rule.origin} (${rule.source})${state}`,
            `requires: ${rule.requires.join(', ')}`,
            ...frameworksOf(rule.id).map(
              (f) => `framework: ${f.packTitle} ${f.controlId} (${f.controlTitle})`,
            ),
            rule.tags.length ? `tags: ${rule.tags.join(', ')}` : '',
            '',
            rule.description.trim(),
            '',
            `risk: ${rule.risk.trim()}`,
            `remediation: ${rule.remediation.trim()}`,
            '',
            'parameters:',
            parametersText(rule, values),
            '',
            rule.sql,
          ]
            .filter((l, i, all) => l !== '' || all[i - 1] !== '')
            .join('\n'),
        );
      });
    });

  cmd
    .command('test <folder>')
    .description('validate a rule folder and run it read-only on the current inventory (nothing is saved)')
    .option('--integration <name>', 'only this integration (default every one)')
    .action(async (folder: string, opts: { integration?: string }) => {
      await withApp(async (app) => {
        const rule = loadRuleFolder(resolve(folder));
        const ids = opts.integration
          ? [(await requireIntegration(app, opts.integration)).id]
          : (await app.integrations.list()).map((i) => i.id);
        const checks = await checkRuleOnInventory(app.store, rule, ids);
        console.log(`${rule.id}: valid (${rule.severity}, ${rule.resource_type})`);
        for (const c of checks) {
          console.log(
            `  ${c.integrationId ?? '(no integration)'}: ${c.ok} ok, ${c.alarm} alarm, ${c.error} error`,
          );
          for (const s of c.samples)
            console.log(
              `    ${s.status} ${s.resource_path ?? s.resource_name ?? s.resource_id}: ${s.reason}`,
            );
        }
      });
    });

  cmd
    .command('run')
    .description('evaluate rules now: incremental (what changed since the last evaluation) unless --full')
    .option('--integration <name>', 'only this integration (default every enabled one)')
    .option('--rule <id>', 'only this rule (a full run of it)')
    .option('--full', 'evaluate everything, not only what changed')
    .option('--json', 'print JSON')
    .action(async (opts: { integration?: string; rule?: string; full?: boolean; json?: boolean }) => {
      await withApp(async (app) => {
        const results = await runRules(app, opts);
        if (opts.json) return console.log(JSON.stringify(results, null, 2));
        if (results.length === 0) return console.log('no enabled integration');
        const names = new Map((await app.integrations.list()).map((i) => [i.id, i.name]));
        for (const r of results) console.log(describeRun(r, names.get(r.integrationId) ?? r.integrationId));
      });
    });

  cmd
    .command('add <folder>')
    .description('save a custom rule (rule.yaml + rule.sql) after validating it on the current inventory')
    .option('--replace', 'replace a saved rule of the same id')
    .option('--actor <name>', 'who adds it (default the OS user)')
    .action(async (folder: string, opts: { replace?: boolean; actor?: string }) => {
      await withApp(async (app) => {
        const { rule, checks, replaced } = await saveCustomRule(app.store, resolve(folder), {
          actor: actorOf(opts),
          fileRules: appFileRules(app),
          replace: opts.replace,
        });
        const counts = checks.map((c) => `${c.ok} ok / ${c.alarm} alarm / ${c.error} error`).join('; ');
        console.log(
          `${replaced ? 'replaced' : 'saved'} rule ${rule.id} (checked on ${checks.length} inventor${checks.length === 1 ? 'y' : 'ies'}: ${counts}); the next evaluation runs it`,
        );
      });
    });

  cmd
    .command('remove <id>')
    .description('remove a saved custom rule (its findings stay)')
    .action(async (id: string) => {
      await withApp(async (app) => {
        await removeCustomRule(app.store, id, appFileRules(app));
        console.log(`removed rule ${id}`);
      });
    });

  for (const [name, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    cmd
      .command(`${name} <id>`)
      .description(`${name} a rule for one integration`)
      .requiredOption('--integration <name>', 'the integration')
      .option('--actor <name>', 'who changes it (default the OS user)')
      .action(async (id: string, opts: { integration: string; actor?: string }) => {
        await withApp(async (app) => {
          const rule = findRule(await appRules(app), id);
          const integration = await requireIntegration(app, opts.integration);
          await setRuleEnabled(app.store, integration.id, rule, enabled, actorOf(opts));
          console.log(`${rule.id}: ${enabled ? 'enabled' : 'disabled'} for ${integration.name}`);
        });
      });
  }

  cmd
    .command('set <id>')
    .description(
      'override parameters of a rule for one integration (typed by the rule; lists as JSON or a,b,c)',
    )
    .requiredOption('--integration <name>', 'the integration')
    .option('--param <name=value>', 'a parameter value (repeatable)', collect, [])
    .option('--unset <name>', 'back to the default (repeatable)', collect, [])
    .option('--actor <name>', 'who changes it (default the OS user)')
    .action(
      async (id: string, opts: { integration: string; param: string[]; unset: string[]; actor?: string }) => {
        await withApp(async (app) => {
          if (opts.param.length === 0 && opts.unset.length === 0)
            throw new Error('give --param name=value or --unset name');
          const rule = findRule(await appRules(app), id);
          const integration = await requireIntegration(app, opts.integration);
          const params = await setRuleParams(
            app.store,
            integration.id,
            rule,
            { set: parseParamAssignments(rule, opts.param), unset: opts.unset },
            actorOf(opts),
          );
          console.log(`${rule.id} for ${integration.name}:\n${parametersText(rule, params)}`);
        });
      },
    );
}
