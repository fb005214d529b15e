import type { Kysely } from 'kysely';
import type { Database } from '../../store/schema.ts';
import type { Candidate } from '../batch.ts';
import type { AppLinks } from '../links.ts';
import type { Policy } from '../policy-repo.ts';
import type { RuleFilter } from '../policy-schema.ts';
import { resourceContext } from '../resource-context.ts';
import { severityRank } from '../severity.ts';
import { decodeChangeValues, describeChange, jsonColumn } from '../what-changed.ts';
import type { AlertSource } from './source.ts';

/** What alerts know of a rule (from rule.yaml and the packs; the app wires the rules catalog in). */
export interface RuleInfo {
  title: string;
  tags: readonly string[];
  packs: readonly string[];
}

export type RuleCatalog = (ruleId: string) => RuleInfo | undefined;

export interface FindingEventRow {
  id: number;
  finding_id: number;
  integration_id: string;
  integration_name: string | null;
  rule_id: string;
  resource_type: string;
  resource_id: string;
  event: string;
  severity: string;
  reason: string;
  actor: string | null;
  at: string;
  drive_id: string | null;
  item_id: string | null;
  resource_name: string | null;
  resource_path: string | null;
  resource_owner: string | null;
}

/** finding_events after `afterId` in id order, with their finding's resource and integration name. */
export async function readFindingEvents(
  db: Kysely<Database>,
  afterId: number,
  limit: number,
): Promise<FindingEventRow[]> {
  const rows = await db
    .selectFrom('finding_events as e')
    .leftJoin('findings as f', 'f.id', 'e.finding_id')
    .leftJoin('integrations as i', 'i.id', 'e.integration_id')
    .select([
      'e.id',
      'e.finding_id',
      'e.integration_id',
      'i.name as integration_name',
      'e.rule_id',
      'e.resource_type',
      'e.resource_id',
      'e.event',
      'e.severity',
      'e.reason',
      'e.actor',
      'e.at',
      'f.drive_id',
      'f.item_id',
      'f.resource_name',
      'f.resource_path',
      'f.resource_owner',
    ])
    .where('e.id', '>', afterId)
    .orderBy('e.id')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ ...r, id: Number(r.id), finding_id: Number(r.finding_id) }) as FindingEventRow);
}

const overlaps = (a: readonly string[], b: readonly string[]) => a.some((x) => b.includes(x));

export function findingMatches(filter: RuleFilter, e: FindingEventRow, catalog: RuleCatalog): boolean {
  if (!(filter.events as string[]).includes(e.event)) return false;
  if (filter.rules.length && !filter.rules.includes(e.rule_id)) return false;
  if (filter.severities.length && !(filter.severities as string[]).includes(e.severity)) return false;
  if (filter.minSeverity && severityRank(e.severity) < severityRank(filter.minSeverity)) return false;
  if (filter.integrations.length && !filter.integrations.includes(e.integration_id)) return false;
  if (filter.tags.length || filter.packs.length) {
    const rule = catalog(e.rule_id);
    if (filter.tags.length && !overlaps(filter.tags, rule?.tags ?? [])) return false;
    if (filter.packs.length && !overlaps(filter.packs, rule?.packs ?? [])) return false;
  }
  return true;
}

export function findingCandidate(e: FindingEventRow, catalog: RuleCatalog, links: AppLinks): Candidate {
  return {
    item: {
      source: 'finding',
      sourceId: e.id,
      event: e.event,
      severity: e.severity,
      title: catalog(e.rule_id)?.title ?? e.rule_id,
      ruleId: e.rule_id,
      detector: e.rule_id,
      integration: e.integration_name ?? e.integration_id,
      resourceType: e.resource_type,
      resourceId: e.resource_id,
      resourceName: e.resource_name,
      resourcePath: e.resource_path,
      owner: e.resource_owner,
      resourceUrl: null,
      changed: null,
      reason: e.reason,
      actor: e.actor,
      at: e.at,
      appUrl: links.finding(e.finding_id),
    },
    ref: { integrationId: e.integration_id, driveId: e.drive_id, itemId: e.item_id },
  };
}

/**
 * Adds what the event row lacks: the resource's link (and path, owner when the rule did not
 * return them) and, from the resource's latest history row up to the event, who changed
 * what.
 */
export async function enrichFinding(db: Kysely<Database>, c: Candidate): Promise<Candidate> {
  const { item, ref } = c;
  const context = await resourceContext(db, {
    ...ref,
    resourceType: item.resourceType,
    resourceId: item.resourceId,
  });
  let q = db
    .selectFrom('changes')
    .select(['change_type', 'fields', 'before', 'after', 'actor'])
    .where('integration_id', '=', ref.integrationId)
    .where('resource_type', '=', item.resourceType as never)
    .where('resource_id', '=', item.resourceId)
    .where('observed_at', '<=', item.at);
  if (ref.driveId && (item.resourceType === 'permission' || item.resourceType === 'drive_item'))
    q = q.where('drive_id', '=', ref.driveId);
  if (ref.itemId && item.resourceType === 'permission') q = q.where('item_id', '=', ref.itemId);
  const last = await q.orderBy('id', 'desc').limit(1).executeTakeFirst();
  const changed = last
    ? describeChange(
        last.change_type,
        jsonColumn<string[]>(last.fields) ?? [],
        decodeChangeValues(item.resourceType, jsonColumn(last.before)),
        decodeChangeValues(item.resourceType, jsonColumn(last.after)),
      )
    : null;
  return {
    ref,
    item: {
      ...item,
      resourceName: item.resourceName ?? context.name,
      resourcePath: item.resourcePath ?? context.path,
      owner: item.owner ?? context.owner,
      resourceUrl: context.url,
      changed,
      actor: item.actor ?? last?.actor ?? null,
    },
  };
}

/** Rule policies: finding events. */
export const findingSource: AlertSource<Extract<Policy, { kind: 'rule' }>, FindingEventRow> = {
  read: readFindingEvents,
  match: async (_db, policy, row, ctx) =>
    findingMatches(policy.filter, row, ctx.catalog) ? findingCandidate(row, ctx.catalog, ctx.links) : null,
  enrich: enrichFinding,
};
