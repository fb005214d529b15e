import type { Kysely } from 'kysely';
import type { Database } from '../../store/schema.ts';
import type { Candidate } from '../batch.ts';
import { conditionFields, conditionHolds } from '../condition.ts';
import type { AppLinks } from '../links.ts';
import type { Policy } from '../policy-repo.ts';
import { currentState, resourceContext } from '../resource-context.ts';
import { decodeChangeValues, describeChange, jsonColumn } from '../what-changed.ts';
import type { AlertSource } from './source.ts';

export interface ChangeRow {
  id: number;
  integration_id: string;
  integration_name: string | null;
  resource_type: string;
  resource_id: string;
  drive_id: string | null;
  item_id: string | null;
  group_id: string | null;
  change_type: 'added' | 'modified' | 'removed';
  fields: string[];
  before: Record<string, unknown>;
  after: Record<string, unknown>;
  actor: string | null;
  observed_at: string;
}

/** `changes` after `afterId` in id order, with their integration's name; JSON columns decoded. */
export async function readChanges(
  db: Kysely<Database>,
  afterId: number,
  limit: number,
): Promise<ChangeRow[]> {
  const rows = await db
    .selectFrom('changes as c')
    .leftJoin('integrations as i', 'i.id', 'c.integration_id')
    .select([
      'c.id',
      'c.integration_id',
      'i.name as integration_name',
      'c.resource_type',
      'c.resource_id',
      'c.drive_id',
      'c.item_id',
      'c.group_id',
      'c.change_type',
      'c.fields',
      'c.before',
      'c.after',
      'c.actor',
      'c.observed_at',
    ])
    .where('c.id', '>', afterId)
    .orderBy('c.id')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    ...r,
    id: Number(r.id),
    fields: jsonColumn<string[]>(r.fields) ?? [],
    before: decodeChangeValues(r.resource_type, jsonColumn(r.before)),
    after: decodeChangeValues(r.resource_type, jsonColumn(r.after)),
  }));
}

type ChangePolicy = Extract<Policy, { kind: 'change' }>;

/**
 * The new state a condition is judged on: for a removal the last state (`before`), else the
 * stored row with the change's values over it (the row is only read when the condition
 * needs a field the change does not carry).
 */
async function newState(
  db: Kysely<Database>,
  c: ChangeRow,
  fields: string[],
): Promise<Record<string, unknown>> {
  if (c.change_type === 'removed') return c.before;
  if (c.change_type === 'added' || fields.every((f) => f in c.after)) return c.after;
  return { ...((await currentState(db, c)) ?? {}), ...c.after };
}

/** Whether a change passes the policy's filter (reads the resource only for a condition that needs it). */
export async function changeMatches(
  db: Kysely<Database>,
  policy: ChangePolicy,
  c: ChangeRow,
): Promise<boolean> {
  const f = policy.filter;
  if (f.resourceTypes.length && !f.resourceTypes.includes(c.resource_type)) return false;
  if (f.changeTypes.length && !(f.changeTypes as string[]).includes(c.change_type)) return false;
  if (f.integrations.length && !f.integrations.includes(c.integration_id)) return false;
  if (f.fields.length && !f.fields.some((field) => c.fields.includes(field))) return false;
  if (!policy.condition) return true;
  return conditionHolds(policy.condition, await newState(db, c, conditionFields(policy.condition)));
}

const TYPE_WORD: Record<string, string> = {
  user: 'User',
  user_mfa: 'MFA registration',
  group: 'Group',
  group_member: 'Group member',
  drive: 'Drive',
  user_drive: 'User drive',
  drive_item: 'File or folder',
  permission: 'Permission',
};

export function changeCandidate(policy: ChangePolicy, c: ChangeRow, links: AppLinks): Candidate {
  return {
    item: {
      source: 'change',
      sourceId: c.id,
      event: c.change_type,
      severity: policy.severity,
      title: `${TYPE_WORD[c.resource_type] ?? c.resource_type} ${c.change_type}`,
      ruleId: null,
      detector: policy.name,
      integration: c.integration_name ?? c.integration_id,
      resourceType: c.resource_type,
      resourceId: c.resource_id,
      resourceName: null,
      resourcePath: null,
      owner: null,
      resourceUrl: null,
      changed: describeChange(c.change_type, c.fields, c.before, c.after),
      reason: null,
      actor: c.actor,
      at: c.observed_at,
      appUrl: links.change(c.id),
    },
    ref: { integrationId: c.integration_id, driveId: c.drive_id, itemId: c.item_id },
  };
}

/** Adds the resource's name, path, owner and link. */
export async function enrichChange(db: Kysely<Database>, c: Candidate): Promise<Candidate> {
  const context = await resourceContext(db, {
    ...c.ref,
    resourceType: c.item.resourceType,
    resourceId: c.item.resourceId,
  });
  return {
    ref: c.ref,
    item: {
      ...c.item,
      resourceName: context.name,
      resourcePath: context.path,
      owner: context.owner,
      resourceUrl: context.url,
    },
  };
}

/** Change policies: rows of `changes`. */
export const changeSource: AlertSource<ChangePolicy, ChangeRow> = {
  read: readChanges,
  match: async (db, policy, row, ctx) =>
    (await changeMatches(db, policy, row)) ? changeCandidate(policy, row, ctx.links) : null,
  enrich: enrichChange,
};
