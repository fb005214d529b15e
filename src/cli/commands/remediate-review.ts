import type { Command } from 'commander';
import { addReviewSchedule, reviewScheduleInput } from '../../app/commands/reviews.ts';
import { withApp } from '../../app/context.ts';
import { reviewLinkKey } from '../../app/review-key.ts';
import { parseGrace } from '../../remediate/auto.ts';
import { listSchedules, removeSchedule } from '../../remediate/review-schedules.ts';
import { campaignReport, createCampaign, reportCsv } from '../../remediate/reviews.ts';
import { planForRule } from '../../remediate/targets.ts';
import { integrationOf } from '../integration-of.ts';

/** `drivewarden remediate review create|report`: access reviews by the files' owners. */
export function registerRemediateReview(remediate: Command, actor: () => string): void {
  const review = remediate
    .command('review')
    .description(
      'access reviews: each drive owner keeps or revokes the risky grants on their files through a signed, expiring, single-use link',
    );

  review
    .command('create <ruleId>')
    .description(
      "a campaign over a rule's open alarms; prints one review link per owner (send each to its owner only)",
    )
    .option('--integration <name>', 'the integration (default: the only one)')
    .option('--name <name>', 'the campaign name', 'access review')
    .option('--expires <duration>', 'how long the links work: 14d, 48h', '14d')
    .option('--scope <scope>', 'for item findings: public or external', 'external')
    .option('--base-url <url>', 'where drivewarden serves the review page', 'http://127.0.0.1:8080')
    .action(
      async (
        ruleId: string,
        o: { integration?: string; name: string; expires: string; scope: string; baseUrl: string },
      ) => {
        if (o.scope !== 'public' && o.scope !== 'external')
          throw new Error(`--scope must be public or external, not "${o.scope}"`);
        const seconds = parseGrace(o.expires, '--expires');
        if (seconds <= 0) throw new Error('--expires must be a positive duration');
        const base = new URL('/review', o.baseUrl);
        await withApp(async (app) => {
          const integrationId = await integrationOf(app, o.integration);
          const now = new Date();
          const campaign = await createCampaign(
            app.store.db,
            app.store.dialect,
            reviewLinkKey(app.config.dataDir, app.config.reviewLinksKey),
            {
              integrationId,
              name: o.name,
              plan: await planForRule(app.store.db, integrationId, ruleId, o.scope as 'public' | 'external'),
              expiresAt: new Date(now.getTime() + seconds * 1000),
              actor: actor(),
              now,
            },
          );
          console.log(`campaign ${campaign.campaignId}: ${campaign.links.length} owner(s)`);
          for (const l of campaign.links) {
            base.searchParams.set('t', l.token);
            console.log(`${l.owner}\t${l.items} grant(s)\t${base.toString()}`);
          }
          for (const n of campaign.notes) console.log(`note: ${n}`);
        });
      },
    );

  review
    .command('report <campaignId>')
    .description('answered, kept, revoked and unanswered; --csv for every item')
    .option('--csv', 'print CSV')
    .action(async (campaignId: string, o: { csv?: boolean }) => {
      const id = Number(campaignId);
      if (!Number.isInteger(id) || id <= 0)
        throw new Error(`campaign id must be a positive integer, not "${campaignId}"`);
      await withApp(async (app) => {
        const report = await campaignReport(app.store.db, id);
        if (report.total === 0) throw new Error(`no campaign ${id} (or it has no items)`);
        if (o.csv) process.stdout.write(reportCsv(report));
        else
          console.log(
            `campaign ${id}: ${report.total} grant(s), ${report.answered} answered (${report.kept} kept, ${report.revoked} revoked), ${report.unanswered} unanswered`,
          );
      });
    });

  const schedule = review
    .command('schedule')
    .description('campaigns launched once per period by `serve` (the next run is stored)');
  const repeat = (v: string, acc: string[]) => [...acc, v];
  schedule
    .command('add <name>')
    .description(
      'e.g. --query outside-grants --every quarterly: a campaign each quarter over the rows of that saved query',
    )
    .option('--integration <name>', 'the integration (default: the only one)')
    .option('--rule <ruleId>', "the rule's open alarms")
    .option('--query <name>', 'a saved query whose rows name drive_id and item_id (or permission_id)')
    .option('--param <name=value>', "the saved query's parameter (repeatable)", repeat, [])
    .requiredOption('--every <period>', 'weekly, monthly, quarterly, yearly or <n>d')
    .option('--expires-days <n>', 'how long each campaign’s links work', '14')
    .option(
      '--escalate-after-days <n>',
      "to the owner's manager after n days, then the admins (0: never)",
      '7',
    )
    .option('--channel <channel>', 'an e-mail channel or a Slack channel with a bot token')
    .option('--teams', 'a Teams activity notification instead')
    .option('--fallback-channel <channel>', 'an e-mail channel for people the chat cannot reach')
    .option('--escalation-channel <channel>', "the admins' alert channel")
    .option('--scope <scope>', 'public or external', 'external')
    .option('--start <iso-time>', 'the first launch (default: at once)')
    .option('--base-url <url>', 'where drivewarden serves the review page')
    .action(async (name: string, o: Record<string, string | string[] | boolean | undefined>) => {
      const params = Object.fromEntries(
        (o.param as string[]).map((kv) => {
          const i = kv.indexOf('=');
          if (i <= 0) throw new Error(`--param must be name=value, not "${kv}"`);
          return [kv.slice(0, i), kv.slice(i + 1)];
        }),
      );
      await withApp(async (app) => {
        const input = reviewScheduleInput.parse({
          integrationId: await integrationOf(app, o.integration as string | undefined),
          name,
          ruleId: o.rule,
          query: o.query,
          params,
          every: o.every,
          expiresDays: Number(o.expiresDays),
          escalateAfterDays: Number(o.escalateAfterDays),
          channel: o.channel,
          teams: o.teams === true,
          fallbackChannel: o.fallbackChannel,
          escalationChannel: o.escalationChannel,
          scope: o.scope,
          start: o.start,
          baseUrl: o.baseUrl,
        });
        const added = await addReviewSchedule(app, input, actor());
        console.log(`scheduled "${added.name}" (${added.id}): ${added.every}, next run ${added.nextRunAt}`);
      });
    });
  schedule
    .command('list')
    .description('scheduled campaigns, their next and last run')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      await withApp(async (app) => {
        const list = await listSchedules(app.store.db);
        if (o.json) return console.log(JSON.stringify(list, null, 2));
        if (list.length === 0) return console.log('no scheduled campaigns');
        for (const s of list)
          console.log(
            `${s.id}\t${s.name}\t${s.source.kind} ${s.source.id}\t${s.every}\tnext ${s.nextRunAt}\tlast ${s.lastRunAt ?? '—'}${s.lastError ? ` (failed: ${s.lastError})` : s.lastCampaignId ? ` (campaign ${s.lastCampaignId})` : ''}`,
          );
      });
    });
  schedule
    .command('remove <nameOrId>')
    .description('stop a scheduled campaign (launched campaigns stay)')
    .action(async (nameOrId: string) => {
      await withApp(async (app) => {
        const gone = await removeSchedule(app.store.db, nameOrId);
        if (!gone) throw new Error(`no scheduled campaign "${nameOrId}"`);
        console.log(`removed "${gone.name}"`);
      });
    });
}
