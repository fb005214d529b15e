import type { Command } from 'commander';
import { sql } from 'kysely';
import { type Accessor, whatCanReach, whoCanReach } from '../../access/reach.ts';
import type { AppContext } from '../../app/context.ts';
import { withApp } from '../../app/context.ts';
import { integrationOf } from '../integration-of.ts';

/** An item by id (any drive of the integration, or --drive) or by drive and path. */
async function itemOf(
  app: AppContext,
  integrationId: string,
  ref: string,
  driveId: string | undefined,
): Promise<{ driveId: string; itemId: string }> {
  let q = app.store.db
    .selectFrom('drive_items')
    .select(['drive_id', 'id'])
    .where('integration_id', '=', integrationId)
    .where('deleted_at', 'is', null);
  if (driveId) q = q.where('drive_id', '=', driveId);
  // A path is looked up as drive_items_api_path's key (live items), so that index serves it.
  q = ref.startsWith('/') ? q.where(sql<string>`coalesce(path, '')`, '=', ref) : q.where('id', '=', ref);
  const found = await q.limit(2).execute();
  if (found.length === 0) throw new Error(`no live item ${ref}${driveId ? ` in drive ${driveId}` : ''}`);
  if (found.length > 1) throw new Error(`${ref} names items in several drives: add --drive`);
  return { driveId: found[0].drive_id, itemId: found[0].id };
}

function describeAccessor(a: Accessor): string {
  const who = a.email ?? a.name ?? a.id ?? a.kind;
  const how =
    a.via === 'group'
      ? `through group ${a.groupName ?? a.groupId}`
      : a.via === 'anyone_link' || a.via === 'organization_link' || a.via === 'link'
        ? `${a.linkType ?? ''} link`.trim()
        : a.via;
  const expiry = a.expiration ? `, expires ${a.expiration}` : '';
  return `${a.kind.padEnd(13)} ${who}  (${how}; ${a.roles.join(',') || 'no role'}; ${a.audience}${expiry})`;
}

export function registerAccess(program: Command): void {
  const access = program
    .command('access')
    .description('effective access: who can reach an item, what a user or group can reach');
  access
    .command('who <item>')
    .description('everyone who can open an item (id, or path with --drive), groups expanded')
    .option('--drive <id>', 'the drive holding the item (needed for a path)')
    .option('--integration <name>', 'the integration (default: the only one)')
    .option('--json', 'print JSON')
    .action(async (ref: string, opts: { drive?: string; integration?: string; json?: boolean }) => {
      await withApp(async (app) => {
        const integrationId = await integrationOf(app, opts.integration);
        const { driveId, itemId } = await itemOf(app, integrationId, ref, opts.drive);
        const reach = await whoCanReach(app.store.db, integrationId, driveId, itemId);
        if (opts.json) return console.log(JSON.stringify(reach));
        console.log(`${reach.path ?? itemId}: ${reach.exposure ?? 'unknown (parent not collected yet)'}`);
        console.log(
          reach.accessRootId === null
            ? 'no sharing root above it: the owner only'
            : `access root: ${reach.accessRootId}${reach.accessRootId === itemId ? ' (the item itself)' : ''}`,
        );
        for (const a of reach.accessors) console.log(`  ${describeAccessor(a)}`);
      });
    });
  access
    .command('what <principal>')
    .description('what a user (id, UPN or e-mail), group (id or e-mail) or outside address can reach')
    .option('--integration <name>', 'the integration (default: the only one)')
    .option('--anyone-links', 'count Anyone links as reachable')
    .option('--limit <n>', 'items listed at most', '100')
    .option('--json', 'print JSON')
    .action(
      async (
        principal: string,
        opts: { integration?: string; anyoneLinks?: boolean; limit: string; json?: boolean },
      ) => {
        const limit = Number(opts.limit);
        if (!Number.isInteger(limit) || limit <= 0)
          throw new Error('--limit must be a positive whole number');
        await withApp(async (app) => {
          const integrationId = await integrationOf(app, opts.integration);
          const reach = await whatCanReach(app.store.db, integrationId, principal, {
            includeAnyoneLinks: opts.anyoneLinks === true,
            limit,
          });
          if (opts.json) return console.log(JSON.stringify(reach));
          const p = reach.principal;
          console.log(`${p.kind} ${p.email ?? p.id ?? principal}${p.isGuest ? ' (guest/outside)' : ''}`);
          console.log(
            `groups: ${reach.groups.length}; sharing roots and drives reached: ${reach.roots.length}`,
          );
          const byVia = new Map<string, number>();
          for (const r of reach.roots) byVia.set(r.via, (byVia.get(r.via) ?? 0) + 1);
          for (const [via, n] of byVia) console.log(`  ${via}: ${n}`);
          if (reach.linkRoots.organization > 0)
            console.log(`  organization links (any member with the link): ${reach.linkRoots.organization}`);
          if (reach.linkRoots.anyone > 0) console.log(`  Anyone links: ${reach.linkRoots.anyone}`);
          for (const i of reach.items) console.log(`  ${i.exposure ?? '?'}\t${i.via}\t${i.path ?? i.id}`);
          if (reach.truncated) console.log(`  … more (raise --limit)`);
        });
      },
    );
}
