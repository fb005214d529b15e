import type { Command } from 'commander';
import { runDetectors } from '../../anomalies/run.ts';
import type { AppContext } from '../../app/context.ts';
import { withApp } from '../../app/context.ts';
import { itemTimeline, itemUsage, type TimelineEntry, userTimeline } from '../../store/activity-queries.ts';
import { integrationOf } from '../integration-of.ts';

interface Common {
  integration?: string;
  days: string;
  limit: string;
  json?: boolean;
}

function positive(value: string, what: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${what} must be a positive number, got "${value}"`);
  return n;
}

function window(o: Common): { since: string; limit: number } {
  const days = positive(o.days, '--days');
  return {
    since: new Date(Date.now() - days * 86_400_000).toISOString(),
    limit: Math.floor(positive(o.limit, '--limit')),
  };
}

/** An item by id or by path (with --drive when several drives hold that path); deleted items too. */
async function itemOf(app: AppContext, integrationId: string, ref: string, driveId: string | undefined) {
  let q = app.store.db
    .selectFrom('drive_items')
    .select(['drive_id', 'id', 'path', 'web_url'])
    .where('integration_id', '=', integrationId);
  if (driveId) q = q.where('drive_id', '=', driveId);
  q = ref.startsWith('/') ? q.where('path', '=', ref) : q.where('id', '=', ref);
  const found = await q.limit(2).execute();
  if (found.length === 0) throw new Error(`no item ${ref}${driveId ? ` in drive ${driveId}` : ''}`);
  if (found.length > 1) throw new Error(`${ref} names items in several drives: add --drive`);
  return found[0];
}

function print(entries: TimelineEntry[], who: boolean): void {
  if (entries.length === 0) {
    console.log('no activity in that window');
    return;
  }
  for (const e of entries) {
    const subject = who ? (e.actor ?? '?') : (e.fileName ?? e.objectUrl ?? '?');
    const extra = [e.target ? `→ ${e.target}` : '', e.linkScope ? `(${e.linkScope} link)` : '']
      .filter(Boolean)
      .join(' ');
    console.log(`${e.time}  ${e.operation.padEnd(26)} ${subject}  ${e.clientIp ?? ''} ${extra}`.trimEnd());
  }
}

function withCommon(cmd: Command): Command {
  return cmd
    .option('--integration <name>', 'the integration (default: the only one)')
    .option('--days <n>', 'how far back', '30')
    .option('--limit <n>', 'most entries shown', '200')
    .option('--json', 'print JSON');
}

export function registerActivity(program: Command): void {
  const activity = program
    .command('activity')
    .description('audit activity: timelines per user and item, usage, anomaly detections');
  withCommon(activity.command('user <upn>').description("a user's activity, newest first")).action(
    async (upn: string, opts: Common) => {
      await withApp(async (app) => {
        const integrationId = await integrationOf(app, opts.integration);
        const entries = await userTimeline(app.store.db, integrationId, upn, window(opts));
        if (opts.json) return console.log(JSON.stringify(entries));
        print(entries, false);
      });
    },
  );
  withCommon(
    activity
      .command('item <item>')
      .description("an item's access history (id, or path with --drive), newest first")
      .option('--drive <id>', 'the drive holding the item (needed for an ambiguous path)'),
  ).action(async (ref: string, opts: Common & { drive?: string }) => {
    await withApp(async (app) => {
      const integrationId = await integrationOf(app, opts.integration);
      const item = await itemOf(app, integrationId, ref, opts.drive);
      const entries = await itemTimeline(
        app.store.db,
        integrationId,
        { driveId: item.drive_id, itemId: item.id, webUrl: item.web_url },
        window(opts),
      );
      if (opts.json)
        return console.log(
          JSON.stringify({ item: { driveId: item.drive_id, id: item.id, path: item.path }, entries }),
        );
      console.log(`${item.path ?? item.id} (drive ${item.drive_id})`);
      print(entries, true);
    });
  });
  withCommon(
    activity.command('usage').description('per item: last access, accesses and distinct accessors'),
  ).action(async (opts: Common) => {
    await withApp(async (app) => {
      const integrationId = await integrationOf(app, opts.integration);
      const usage = await itemUsage(app.store.db, integrationId, window(opts));
      if (opts.json) return console.log(JSON.stringify(usage));
      for (const u of usage)
        console.log(
          `${String(u.accesses).padStart(6)} accesses  ${String(u.accessors).padStart(4)} people  last ${u.lastAccessAt}  ${u.path ?? u.itemId}`,
        );
    });
  });
  activity
    .command('detect')
    .description('run the anomaly detectors over recent activity and print what they find')
    .option('--integration <name>', 'the integration (default: the only one)')
    .option('--hours <n>', 'the judged span', '24')
    .option('--json', 'print JSON')
    .action(async (opts: { integration?: string; hours: string; json?: boolean }) => {
      await withApp(async (app) => {
        const integrationId = await integrationOf(app, opts.integration);
        const detections = await runDetectors(app.store.db, integrationId, {
          hours: positive(opts.hours, '--hours'),
        });
        if (opts.json) return console.log(JSON.stringify(detections));
        if (detections.length === 0) return console.log('no anomaly detected');
        for (const d of detections)
          console.log(`${d.severity.padEnd(8)} ${d.detector.padEnd(32)} ${d.reason}`);
      });
    });
}
