import type { Command } from 'commander';
import { withApp } from '../../app/context.ts';
import { reviewLinkKey } from '../../app/review-key.ts';
import { parseGrace } from '../../remediate/auto.ts';
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
            reviewLinkKey(app.config.dataDir),
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
}
