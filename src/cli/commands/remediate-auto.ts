import type { Command } from 'commander';
import { withApp } from '../../app/context.ts';
import { autoRemediate, withIntegrationContext } from '../../app/remediate.ts';
import {
  AutoRemediationError,
  allowedRules,
  allowRule,
  dailyCap,
  disallowRule,
  parseGrace,
  planAuto,
  setDailyCap,
  usedToday,
} from '../../remediate/auto.ts';
import { describeStep } from '../../remediate/plan.ts';
import { integrationOf } from '../integration-of.ts';

/** `drivewarden remediate auto …`: which rules may remediate on their own, the daily cap, one round. */
export function registerRemediateAuto(remediate: Command, actor: () => string): void {
  const auto = remediate
    .command('auto')
    .description(
      'auto-remediation per rule: off unless allowed, after a grace period, within a daily cap per integration',
    );

  auto
    .command('allow <ruleId>')
    .description("let a rule's open alarms be remediated on their own once open for the grace period")
    .option('--integration <name>', 'the integration (default: the only one)')
    .option(
      '--grace <duration>',
      'how long the owner has to object (suppress the finding): 24h, 30m, 2d',
      '24h',
    )
    .option('--scope <scope>', 'for item findings: public or external', 'public')
    .action(async (ruleId: string, o: { integration?: string; grace: string; scope: string }) => {
      if (o.scope !== 'public' && o.scope !== 'external')
        throw new AutoRemediationError(`--scope must be public or external, not "${o.scope}"`);
      const graceSeconds = parseGrace(o.grace);
      await withApp(async (app) => {
        const integrationId = await integrationOf(app, o.integration);
        await allowRule(app.store.db, {
          integrationId,
          ruleId,
          graceSeconds,
          scope: o.scope as 'public' | 'external',
          actor: actor(),
          now: new Date(),
        });
        console.log(`auto-remediation allowed for ${ruleId} after ${o.grace} (${o.scope})`);
      });
    });

  auto
    .command('disallow <ruleId>')
    .description('stop a rule remediating on its own')
    .option('--integration <name>', 'the integration (default: the only one)')
    .action(async (ruleId: string, o: { integration?: string }) => {
      await withApp(async (app) => {
        const integrationId = await integrationOf(app, o.integration);
        const was = await disallowRule(app.store.db, integrationId, ruleId);
        console.log(was ? `auto-remediation off for ${ruleId}` : `${ruleId} was not allowed`);
      });
    });

  auto
    .command('cap <count>')
    .description('at most this many automatic removals per integration per UTC day (0 stops them)')
    .option('--integration <name>', 'the integration (default: the only one)')
    .action(async (count: string, o: { integration?: string }) => {
      const cap = Number(count);
      await withApp(async (app) => {
        const integrationId = await integrationOf(app, o.integration);
        await setDailyCap(app.store.db, integrationId, cap, actor(), new Date());
        console.log(`daily cap: ${cap}`);
      });
    });

  auto
    .command('list')
    .description('the allowed rules, the cap and what was used today')
    .option('--integration <name>', 'the integration (default: the only one)')
    .option('--json', 'print JSON')
    .action(async (o: { integration?: string; json?: boolean }) => {
      await withApp(async (app) => {
        const integrationId = await integrationOf(app, o.integration);
        const rules = await allowedRules(app.store.db, integrationId);
        const cap = await dailyCap(app.store.db, integrationId);
        const used = await usedToday(app.store.db, integrationId, new Date());
        if (o.json) console.log(JSON.stringify({ rules, cap, usedToday: used }, null, 2));
        else {
          for (const r of rules)
            console.log(
              `${r.ruleId.padEnd(44)} grace ${r.graceSeconds}s  ${r.scope}  (by ${r.createdBy}, ${r.createdAt})`,
            );
          if (rules.length === 0) console.log('no rule is allowed: auto-remediation is off');
          console.log(`daily cap ${cap}, used today ${used}`);
        }
      });
    });

  auto
    .command('run')
    .description('one automatic round now: dry run by default, --yes to execute')
    .option('--integration <name>', 'the integration (default: the only one)')
    .option('--yes', 'execute (default: list what the round would remove)')
    .action(async (o: { integration?: string; yes?: boolean }) => {
      await withApp(async (app) => {
        const integrationId = await integrationOf(app, o.integration);
        const now = new Date();
        if (!o.yes) {
          const plan = await planAuto(app.store.db, integrationId, now);
          for (const p of plan.plans)
            for (const s of p.plan.steps) console.log(`${p.ruleId}: ${describeStep(s)}`);
          for (const n of plan.notes) console.log(`note: ${n}`);
          console.log(
            `dry run: ${plan.plans.reduce((n, p) => n + p.plan.steps.length, 0)} removal(s) due, ${plan.deferred} deferred by the cap (${plan.used}/${plan.cap} used today)`,
          );
          return;
        }
        const { plan, runs } = await withIntegrationContext(app, integrationId, (ctx) =>
          autoRemediate(ctx, now),
        );
        for (const { ruleId, run } of runs)
          for (const out of run.outcomes)
            console.log(
              `${ruleId}: ${out.result} ${out.step.itemPath ?? out.step.itemId} [${out.step.permissionId}]${out.error ? ` — ${out.error}` : ''}`,
            );
        console.log(
          `${runs.reduce((n, r) => n + r.run.outcomes.length, 0)} step(s), ${plan.deferred} deferred by the cap`,
        );
        if (runs.some((r) => r.run.outcomes.some((x) => x.result === 'failed'))) process.exitCode = 1;
      });
    });
}
