import { type Kysely, sql } from 'kysely';
import { decodeValue } from '../store/codec.ts';
import type { Database } from '../store/schema.ts';
import { type AccessScope, AUDIENCES_OF, makePlan, type RemovalPlan, type RemovalStep } from './plan.ts';

/**
 * Builds removal plans from the inventory: for one permission, an item (optionally its
 * subtree), a finding, or the open findings of a rule. Graph only deletes a permission on
 * the item it is set on; OneDrive for Business lists inherited permissions on every sharing
 * root below without saying so (no inheritedFrom). A permission id is the same wherever it
 * is listed, so the item it is set on is the highest one listing it (the shortest path).
 */

export class RemediationTargetError extends Error {}

type Db = Kysely<Database>;

const AUDIENCE_WORDS: Record<string, string> = {
  public: 'Anyone link',
  external: 'access for people outside the tenant',
  guest: 'access for guests',
};

/** The step removing permission `permissionId` of drive `driveId` where it is set; null when not live. */
async function definingStep(
  db: Db,
  integrationId: string,
  driveId: string,
  permissionId: string,
  reason: string,
): Promise<RemovalStep | null> {
  const rows = await db
    .selectFrom('permissions as p')
    .leftJoin('drive_items as i', (j) =>
      j
        .onRef('i.integration_id', '=', 'p.integration_id')
        .onRef('i.drive_id', '=', 'p.drive_id')
        .onRef('i.id', '=', 'p.item_id'),
    )
    .select(['p.drive_id', 'p.item_id', 'p.id', 'p.roles', 'p.link_scope', 'p.recipients', 'i.path'])
    .where('p.integration_id', '=', integrationId)
    .where('p.drive_id', '=', driveId)
    .where('p.id', '=', permissionId)
    .where('p.deleted_at', 'is', null)
    .execute();
  if (rows.length === 0) return null;
  const depth = (path: string | null) => (path === null ? Number.POSITIVE_INFINITY : path.split('/').length);
  const top = rows.reduce((a, b) => (depth(b.path) < depth(a.path) ? b : a));
  const roles = (decodeValue('json', top.roles) as string[] | null) ?? [];
  return {
    action: 'remove_permission',
    driveId: top.drive_id,
    itemId: top.item_id,
    permissionId: top.id,
    itemPath: top.path,
    linkScope: top.link_scope,
    roles,
    recipients: (decodeValue('json', top.recipients) as string[] | null) ?? [],
    reason,
  };
}

function ownerRoleGuard(step: RemovalStep): void {
  if (step.roles.includes('owner'))
    throw new RemediationTargetError(
      `permission ${step.permissionId} is the owner's: an item's owner cannot be removed`,
    );
}

/** One permission by id (with its drive when the id is listed in several drives). */
export async function planForPermission(
  db: Db,
  integrationId: string,
  permissionId: string,
  driveId?: string,
): Promise<RemovalPlan> {
  let q = db
    .selectFrom('permissions')
    .select('drive_id')
    .distinct()
    .where('integration_id', '=', integrationId)
    .where('id', '=', permissionId)
    .where('deleted_at', 'is', null);
  if (driveId) q = q.where('drive_id', '=', driveId);
  const drives = (await q.execute()).map((r) => r.drive_id);
  if (drives.length === 0)
    throw new RemediationTargetError(
      `no live permission "${permissionId}" in the inventory${driveId ? ` of drive ${driveId}` : ''}`,
    );
  if (drives.length > 1)
    throw new RemediationTargetError(
      `permission "${permissionId}" is listed in ${drives.length} drives: name one with --drive`,
    );
  const step = await definingStep(db, integrationId, drives[0], permissionId, 'asked for by id');
  if (!step) throw new RemediationTargetError(`no live permission "${permissionId}"`);
  ownerRoleGuard(step);
  return makePlan(integrationId, `permission ${permissionId}`, [step]);
}

interface ItemRef {
  driveId: string;
  id: string;
  path: string | null;
}

async function findItem(db: Db, integrationId: string, itemId: string, driveId?: string): Promise<ItemRef> {
  let q = db
    .selectFrom('drive_items')
    .select(['drive_id', 'id', 'path'])
    .where('integration_id', '=', integrationId)
    .where('id', '=', itemId)
    .where('deleted_at', 'is', null);
  if (driveId) q = q.where('drive_id', '=', driveId);
  const rows = await q.execute();
  if (rows.length === 0) throw new RemediationTargetError(`no live item "${itemId}" in the inventory`);
  if (rows.length > 1)
    throw new RemediationTargetError(`item "${itemId}" is in ${rows.length} drives: name one with --drive`);
  return { driveId: rows[0].drive_id, id: rows[0].id, path: rows[0].path };
}

const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/** The steps removing `scope` access from an item (and its subtree), wherever that access is set. */
async function itemSteps(
  db: Db,
  integrationId: string,
  item: ItemRef,
  scope: AccessScope,
  subtree: boolean,
  why: string,
): Promise<{ steps: RemovalStep[]; notes: string[] }> {
  if (subtree && item.path === null)
    throw new RemediationTargetError(
      `item ${item.id} has no path yet (its parent has not been collected): run a sync first`,
    );
  const prefix = item.path === '/' ? '/' : `${item.path}/`;
  let q = db
    .selectFrom('item_grants')
    .select(['permission_id', 'audience', 'path', 'item_id'])
    .where('integration_id', '=', integrationId)
    .where('drive_id', '=', item.driveId)
    .where('audience', 'in', [...AUDIENCES_OF[scope]])
    .where(sql<boolean>`is_owner = false`);
  q = subtree
    ? q.where((eb) =>
        eb.or([eb('item_id', '=', item.id), sql<boolean>`path like ${`${likeEscape(prefix)}%`} escape '\\'`]),
      )
    : q.where('item_id', '=', item.id);
  const rows = (await q.execute()).filter(
    (r) => r.item_id === item.id || r.path?.startsWith(prefix) === true,
  );
  const byPermission = new Map<string, { audience: string }>();
  for (const r of rows)
    if (!byPermission.has(r.permission_id)) byPermission.set(r.permission_id, { audience: r.audience });
  const steps: RemovalStep[] = [];
  const notes: string[] = [];
  for (const [permissionId, { audience }] of byPermission) {
    const reason = `${AUDIENCE_WORDS[audience] ?? audience} reaching ${item.path ?? item.id}${subtree ? ' or below' : ''} (${why})`;
    const step = await definingStep(db, integrationId, item.driveId, permissionId, reason);
    if (!step) {
      notes.push(
        `permission ${permissionId} is in the grants but not among the live permissions: sync again`,
      );
      continue;
    }
    if (
      item.path &&
      step.itemPath &&
      item.path !== step.itemPath &&
      item.path.startsWith(`${step.itemPath === '/' ? '' : step.itemPath}/`)
    )
      notes.push(
        `permission ${permissionId} is set on ${step.itemPath}, above ${item.path}: removing it changes access to everything under ${step.itemPath}`,
      );
    steps.push(step);
  }
  return { steps, notes };
}

export async function planForItem(
  db: Db,
  integrationId: string,
  itemId: string,
  opts: { scope: AccessScope; subtree: boolean; driveId?: string },
): Promise<RemovalPlan> {
  const item = await findItem(db, integrationId, itemId, opts.driveId);
  const { steps, notes } = await itemSteps(
    db,
    integrationId,
    item,
    opts.scope,
    opts.subtree,
    `${opts.scope} access`,
  );
  return makePlan(integrationId, `item ${itemId}${opts.subtree ? ' (subtree)' : ''}`, steps, notes);
}

type FindingRow = Pick<
  Database['findings'],
  'rule_id' | 'resource_type' | 'resource_id' | 'drive_id' | 'status' | 'result'
> & { id: number };

async function findingSteps(
  db: Db,
  integrationId: string,
  f: FindingRow,
  scope: AccessScope,
): Promise<{ steps: RemovalStep[]; notes: string[] }> {
  const why = `finding ${f.id} of ${f.rule_id}`;
  if (f.status !== 'open' || f.result !== 'alarm')
    return { steps: [], notes: [`finding ${f.id} is ${f.status} (${f.result}): nothing to remove`] };
  if (f.resource_type === 'permission') {
    if (!f.drive_id) return { steps: [], notes: [`finding ${f.id} names no drive`] };
    const step = await definingStep(db, integrationId, f.drive_id, f.resource_id, why);
    if (!step)
      return { steps: [], notes: [`finding ${f.id}: permission ${f.resource_id} is no longer live`] };
    if (step.roles.includes('owner'))
      return { steps: [], notes: [`finding ${f.id}: the owner's permission is never removed`] };
    return { steps: [step], notes: [] };
  }
  if (f.resource_type === 'drive_item') {
    const item = await findItem(db, integrationId, f.resource_id, f.drive_id ?? undefined);
    return itemSteps(db, integrationId, item, scope, false, why);
  }
  const hint = f.resource_type === 'tenant_settings' ? ': use `remediate settings`' : '';
  return {
    steps: [],
    notes: [`finding ${f.id} is about a ${f.resource_type}: no permission to remove${hint}`],
  };
}

const FINDING_COLUMNS = [
  'id',
  'rule_id',
  'resource_type',
  'resource_id',
  'drive_id',
  'status',
  'result',
] as const;

export async function planForFinding(
  db: Db,
  integrationId: string,
  findingId: number,
  scope: AccessScope,
): Promise<RemovalPlan> {
  const f = await db
    .selectFrom('findings')
    .select(FINDING_COLUMNS)
    .where('integration_id', '=', integrationId)
    .where('id', '=', findingId)
    .executeTakeFirst();
  if (!f) throw new RemediationTargetError(`no finding ${findingId} for this integration`);
  const { steps, notes } = await findingSteps(db, integrationId, f, scope);
  return makePlan(integrationId, `finding ${findingId}`, steps, notes);
}

/** Every open alarm of a rule. */
export async function planForRule(
  db: Db,
  integrationId: string,
  ruleId: string,
  scope: AccessScope,
): Promise<RemovalPlan> {
  const findings = await db
    .selectFrom('findings')
    .select(FINDING_COLUMNS)
    .where('integration_id', '=', integrationId)
    .where('rule_id', '=', ruleId)
    .where('status', '=', 'open')
    .where('result', '=', 'alarm')
    .orderBy('id')
    .execute();
  const steps: RemovalStep[] = [];
  const notes: string[] = [];
  for (const f of findings) {
    const part = await findingSteps(db, integrationId, f, scope);
    steps.push(...part.steps);
    notes.push(...part.notes);
  }
  if (findings.length === 0) notes.push(`rule ${ruleId} has no open alarm`);
  return makePlan(integrationId, `rule ${ruleId}`, steps, notes);
}

/**
 * The rows of a saved query (a review campaign's source): a row naming `drive_id` and
 * `permission_id` removes that permission where it is set; one naming `drive_id` and `item_id`
 * removes the item's `scope` access. Other rows are noted, never guessed at.
 */
export async function planForRows(
  db: Db,
  integrationId: string,
  origin: string,
  rows: Iterable<Record<string, unknown>>,
  scope: AccessScope,
): Promise<RemovalPlan> {
  const steps: RemovalStep[] = [];
  const notes: string[] = [];
  let n = 0;
  for (const row of rows) {
    n++;
    const driveId = typeof row.drive_id === 'string' ? row.drive_id : null;
    const permissionId = typeof row.permission_id === 'string' ? row.permission_id : null;
    const itemId = typeof row.item_id === 'string' ? row.item_id : null;
    if (!driveId || (!permissionId && !itemId)) {
      notes.push(`row ${n} names no drive_id with a permission_id or an item_id: left out`);
      continue;
    }
    if (permissionId) {
      const step = await definingStep(db, integrationId, driveId, permissionId, origin);
      if (!step) notes.push(`row ${n}: permission ${permissionId} is no longer live`);
      else if (step.roles.includes('owner')) notes.push(`row ${n}: the owner's permission is never removed`);
      else steps.push(step);
      continue;
    }
    try {
      const item = await findItem(db, integrationId, itemId as string, driveId);
      const part = await itemSteps(db, integrationId, item, scope, false, origin);
      steps.push(...part.steps);
      notes.push(...part.notes);
    } catch (err) {
      if (!(err instanceof RemediationTargetError)) throw err;
      notes.push(`row ${n}: ${err.message}`);
    }
  }
  if (n === 0) notes.push(`${origin} returned no row`);
  return makePlan(integrationId, origin, steps, notes);
}
