import { userInfo } from 'node:os';
import type { Command } from 'commander';
import type { AppContext } from '../../app/context.ts';
import { withApp } from '../../app/context.ts';
import { fixSettingsAndReread, removeAndReread, withIntegrationContext } from '../../app/remediate.ts';
import { type AccessScope, describeStep, type RemovalPlan } from '../../remediate/plan.ts';
import { parseAssignments, planSettings, type SettingsPlan } from '../../remediate/settings.ts';
import { planForFinding, planForItem, planForPermission, planForRule } from '../../remediate/targets.ts';
import { listActions } from '../../remediate/trail.ts';
import { integrationOf } from '../integration-of.ts';
import { registerRemediateAuto } from './remediate-auto.ts';
import { registerRemediateReview } from './remediate-review.ts';

/**
 * `drivewarden remediate …`: a dry run by default that lists exactly what would change and
 * the plan id; `--yes` executes (with `--plan <id>`, only if the plan is still that one).
 */

interface CommonOptions {
  integration?: string;
  yes?: boolean;
  plan?: string;
  json?: boolean;
}

function actor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

function parseScope(v: string | undefined): AccessScope {
  const scope = v ?? 'public';
  if (scope !== 'public' && scope !== 'external')
    throw new Error(
      `--scope must be public (Anyone links) or external (also guests and outside people), not "${v}"`,
    );
  return scope;
}

function printPlan(plan: RemovalPlan): void {
  console.log(`plan ${plan.id}: ${plan.steps.length} removal(s) for ${plan.origin}`);
  for (const s of plan.steps) console.log(`  ${describeStep(s)}`);
  for (const n of plan.notes) console.log(`  note: ${n}`);
}

function checkPlanId(actual: string, expected: string | undefined): void {
  if (expected !== undefined && expected !== actual)
    throw new Error(
      `the plan is now ${actual}, not ${expected}: what would change is no longer what the dry run listed; run the dry run again`,
    );
}

async function runRemoval(
  app: AppContext,
  integrationId: string,
  plan: RemovalPlan,
  o: CommonOptions,
): Promise<void> {
  if (!o.yes) {
    if (o.json) console.log(JSON.stringify({ dryRun: true, plan }, null, 2));
    else {
      printPlan(plan);
      if (plan.steps.length > 0)
        console.log(`dry run: nothing changed. To execute exactly this plan: add --yes --plan ${plan.id}`);
    }
    return;
  }
  checkPlanId(plan.id, o.plan);
  if (!o.json) printPlan(plan);
  if (plan.steps.length === 0) return;
  const run = await withIntegrationContext(app, integrationId, (ctx) => removeAndReread(ctx, plan, actor()));
  if (o.json) console.log(JSON.stringify(run, null, 2));
  else {
    for (const out of run.outcomes)
      console.log(
        `  ${out.result.padEnd(12)} ${out.step.itemPath ?? out.step.itemId} [${out.step.permissionId}]${
          out.requestId ? ` request-id ${out.requestId}` : ''
        }${out.error ? ` — ${out.error}` : ''}`,
      );
    for (const r of run.rereadErrors) console.log(`  re-read of drive ${r.driveId} failed: ${r.error}`);
    for (const id of run.unconfirmed)
      console.log(`  unconfirmed: Graph said removed, the re-read still lists ${id}`);
    const count = (r: string) => run.outcomes.filter((x) => x.result === r).length;
    console.log(
      `plan ${plan.id}: ${count('done')} removed, ${count('already_gone')} already gone, ${count('skipped')} skipped, ${count('failed')} failed (trail: drivewarden remediate log --plan ${plan.id})`,
    );
  }
  if (run.outcomes.some((x) => x.result === 'failed') || run.unconfirmed.length > 0) process.exitCode = 1;
}

function printSettingsPlan(plan: SettingsPlan): void {
  console.log(`plan ${plan.id}: ${plan.changes.length} tenant setting(s) to change`);
  for (const c of plan.changes)
    console.log(`  ${c.property}: ${JSON.stringify(c.before)} → ${JSON.stringify(c.after)}`);
  for (const u of plan.unchanged) console.log(`  ${u}: already set`);
}

function withCommon(cmd: Command): Command {
  return cmd
    .option('--integration <name>', 'the integration (default: the only one)')
    .option('--yes', 'execute the plan (default: dry run, nothing changes)')
    .option('--plan <id>', 'with --yes: execute only if the plan is still the one the dry run printed')
    .option('--json', 'print the plan and the results as JSON');
}

export function registerRemediate(program: Command): void {
  const remediate = program
    .command('remediate')
    .description(
      'remove risky sharing and fix tenant settings in Graph: dry run by default, --yes to execute, every call in the audit trail',
    );

  withCommon(
    remediate
      .command('permission <permissionId>')
      .description('remove one sharing permission (link or grant)'),
  )
    .option('--drive <driveId>', 'the drive, when the permission id is listed in several')
    .action(async (permissionId: string, o: CommonOptions & { drive?: string }) => {
      await withApp(async (app) => {
        const integrationId = await integrationOf(app, o.integration);
        const plan = await planForPermission(app.store.db, integrationId, permissionId, o.drive);
        await runRemoval(app, integrationId, plan, o);
      });
    });

  withCommon(
    remediate
      .command('item <itemId>')
      .description(
        'remove public (Anyone) or external access to an item, wherever it is set; --subtree for everything below',
      ),
  )
    .option('--drive <driveId>', 'the drive, when the item id is in several')
    .option('--scope <scope>', 'public (Anyone links) or external (also guests and outside people)', 'public')
    .option('--subtree', 'also every item below a folder')
    .action(
      async (itemId: string, o: CommonOptions & { drive?: string; scope?: string; subtree?: boolean }) => {
        await withApp(async (app) => {
          const integrationId = await integrationOf(app, o.integration);
          const plan = await planForItem(app.store.db, integrationId, itemId, {
            scope: parseScope(o.scope),
            subtree: o.subtree === true,
            driveId: o.drive,
          });
          await runRemoval(app, integrationId, plan, o);
        });
      },
    );

  withCommon(
    remediate
      .command('finding <findingId>')
      .description(
        'remove what an open finding is about: its permission, or the public/external access of its item',
      ),
  )
    .option('--scope <scope>', 'for item findings: public or external', 'external')
    .action(async (findingId: string, o: CommonOptions & { scope?: string }) => {
      const id = Number(findingId);
      if (!Number.isInteger(id) || id <= 0)
        throw new Error(`finding id must be a positive integer, not "${findingId}"`);
      await withApp(async (app) => {
        const integrationId = await integrationOf(app, o.integration);
        const plan = await planForFinding(app.store.db, integrationId, id, parseScope(o.scope));
        await runRemoval(app, integrationId, plan, o);
      });
    });

  withCommon(
    remediate.command('rule <ruleId>').description('remove what every open alarm of a rule is about'),
  )
    .option('--scope <scope>', 'for item findings: public or external', 'external')
    .action(async (ruleId: string, o: CommonOptions & { scope?: string }) => {
      await withApp(async (app) => {
        const integrationId = await integrationOf(app, o.integration);
        const plan = await planForRule(app.store.db, integrationId, ruleId, parseScope(o.scope));
        await runRemoval(app, integrationId, plan, o);
      });
    });

  withCommon(
    remediate
      .command('settings')
      .description(
        'change tenant SharePoint/OneDrive settings (PATCH /admin/sharepoint/settings), e.g. --set sharingCapability=existingExternalUserSharingOnly',
      ),
  )
    .option(
      '--set <name=value>',
      'a sharepointSettings property and its value (repeatable; lists comma-separated)',
      (v: string, all: string[]) => [...all, v],
      [] as string[],
    )
    .action(async (o: CommonOptions & { set: string[] }) => {
      const desired = parseAssignments(o.set);
      await withApp(async (app) => {
        const integrationId = await integrationOf(app, o.integration);
        await withIntegrationContext(app, integrationId, async (ctx) => {
          const plan = await planSettings(ctx.client, integrationId, desired);
          if (!o.json) printSettingsPlan(plan);
          if (!o.yes) {
            if (o.json) console.log(JSON.stringify({ dryRun: true, plan }, null, 2));
            else if (plan.changes.length > 0)
              console.log(
                `dry run: nothing changed. To execute exactly this plan: add --yes --plan ${plan.id}`,
              );
            return;
          }
          checkPlanId(plan.id, o.plan);
          const result = await fixSettingsAndReread(ctx, plan, actor());
          if (o.json) console.log(JSON.stringify({ plan, ...result }, null, 2));
          else
            console.log(
              `${result.result}${result.requestId ? ` (request-id ${result.requestId})` : ''}${result.error ? `: ${result.error}` : ''}${
                result.after ? `; Graph now says ${JSON.stringify(result.after)}` : ''
              }`,
            );
          if (result.result !== 'done') process.exitCode = 1;
        });
      });
    });

  registerRemediateAuto(remediate, actor);
  registerRemediateReview(remediate, actor);

  remediate
    .command('log')
    .description(
      'the remediation audit trail, newest first: who, when, what, before/after, Graph request id, result',
    )
    .option('--integration <name>', 'only this integration')
    .option('--plan <id>', 'only one plan')
    .option('--permission <id>', 'only one permission')
    .option('--limit <n>', 'how many entries', '50')
    .option('--json', 'print JSON')
    .action(
      async (o: {
        integration?: string;
        plan?: string;
        permission?: string;
        limit: string;
        json?: boolean;
      }) => {
        const limit = Number(o.limit);
        if (!Number.isInteger(limit) || limit <= 0)
          throw new Error(`--limit must be a positive integer, not "${o.limit}"`);
        await withApp(async (app) => {
          const integrationId = o.integration ? await integrationOf(app, o.integration) : undefined;
          const entries = await listActions(app.store.db, {
            integrationId,
            planId: o.plan,
            permissionId: o.permission,
            limit,
          });
          if (o.json) {
            console.log(JSON.stringify(entries, null, 2));
            return;
          }
          for (const e of entries)
            console.log(
              `${e.finished_at}  ${e.actor}  ${e.action}  ${e.result}${e.http_status ? ` ${e.http_status}` : ''}  ${
                e.item_path ?? ''
              }${e.permission_id ? ` [${e.permission_id}]` : ''}  plan ${e.plan_id}  ${e.reason}${e.request_id ? `  request-id ${e.request_id}` : ''}${
                e.error ? `  — ${e.error}` : ''
              }`,
            );
          if (entries.length === 0) console.log('no remediation recorded');
        });
      },
    );
}
