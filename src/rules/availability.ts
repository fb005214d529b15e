import { type Kysely, sql } from 'kysely';
import { type Capability, capabilities } from '../resources/capabilities.ts';
import { resources } from '../resources/index.ts';
import { decodeValue } from '../store/codec.ts';
import type { Database } from '../store/schema.ts';
import type { RuleDefinition } from './definition.ts';

/**
 * Can a rule see its data for an integration? "Errors are data": a rule whose data is
 * missing says `error`, never `ok`. From the rule's `requires` (capabilities), the last
 * permission probe (integrations.probe: {capability: granted | missing | error}) and what
 * collection recorded (sync_state, open sync_errors):
 * - a required permission not granted, a required type whose collection fails as a whole
 *   (an open type-wide sync error) or that was never collected → the rule is *blocked*: one
 *   error result for the integration, and its SQL is not run;
 * - for rules over drives, items and permissions, each drive whose item feed is failing
 *   (sync_state drive:<id> with an error and no success since) → one error result for that
 *   drive, in addition to what the SQL returns.
 */

export interface FailingDrive {
  driveId: string;
  name: string | null;
  owner: string | null;
  code: string;
  message: string | null;
  since: string | null;
}

export interface AvailabilityFacts {
  integrationId: string;
  integrationName: string | null;
  /** capability → probe status; null when the integration was never probed. */
  probe: Record<string, string> | null;
  probedAt: string | null;
  /** capability → { collected, when last collected without error (when known) }. */
  collected: Map<string, { collected: boolean; at: string | null }>;
  /** Open type-wide collection errors by subject (resource type or signInActivity). */
  typeWideErrors: Map<string, { code: string; status: number | null; message: string; since: string }>;
  failingDrives: FailingDrive[];
}

/** Where collection records success for a capability (sync_state scopes; `drive:` is a prefix). */
const SCOPES: Record<string, readonly string[]> = {
  user: ['users', 'users-delta'],
  signInActivity: ['users'],
  user_mfa: ['mfa'],
  group: ['groups-delta', 'groups'],
  group_member: ['groups-delta', 'groups'],
  drive_item: ['drive:'],
  permission: ['drive:'],
  // Labels are read for the exposed files of each drive round: collected with the items
  // (none to read is not "never collected"); a denied read is an open type-wide error.
  item_label: ['drive:'],
  sensitivity_label: ['sensitivity-labels'],
};
/** Types collected without a sync_state scope of their own: collected once their table has rows. */
const TABLE_OF = new Map(resources.map((r) => [r.type as string, r.table]));
TABLE_OF.set('drive', 'user_drives');

const DRIVE_TYPES = new Set(['drive', 'drive_item', 'permission']);

export async function readAvailability(
  db: Kysely<Database>,
  integrationId: string,
): Promise<AvailabilityFacts> {
  const integration = await db
    .selectFrom('integrations')
    .select(['name', 'probe', 'probed_at'])
    .where('id', '=', integrationId)
    .executeTakeFirst();
  const probe = (decodeValue('json', integration?.probe) as Record<string, string> | null) ?? null;
  const states = await db
    .selectFrom('sync_state')
    .select(['scope', 'last_success_at', 'last_error_code', 'last_error_message', 'last_error_at'])
    .where('integration_id', '=', integrationId)
    .execute();
  const errors = await db
    .selectFrom('sync_errors')
    .select(['resource_type', 'code', 'status', 'message', 'first_at'])
    .where('integration_id', '=', integrationId)
    .where('resolved_at', 'is', null)
    .where('resource_id', 'is', null)
    .where('code', '<>', 'invalidPayload')
    .orderBy('id')
    .execute();
  const typeWideErrors: AvailabilityFacts['typeWideErrors'] = new Map();
  for (const e of errors)
    if (!typeWideErrors.has(e.resource_type))
      typeWideErrors.set(e.resource_type, {
        code: e.code,
        status: e.status === null ? null : Number(e.status),
        message: e.message,
        since: e.first_at,
      });

  const collected: AvailabilityFacts['collected'] = new Map();
  const lastSuccess = (prefixes: readonly string[]) => {
    let at: string | null = null;
    for (const s of states) {
      const hit = prefixes.some((p) => (p.endsWith(':') ? s.scope.startsWith(p) : s.scope === p));
      if (hit && s.last_success_at && (at === null || s.last_success_at > at)) at = s.last_success_at;
    }
    return at;
  };
  const hasRows = async (table: string, live = false) => {
    const { rows } = await sql<{ one: number }>`select 1 as one from ${sql.table(table)}
      where integration_id = ${integrationId} ${live ? sql`and deleted_at is null` : sql``} limit 1`.execute(
      db,
    );
    return rows.length > 0;
  };
  for (const cap of new Set(capabilities().map((c) => c.capability))) {
    const scopes = SCOPES[cap];
    const at = scopes ? lastSuccess(scopes) : null;
    const table = TABLE_OF.get(cap);
    // A type with a sync_state scope is collected once a round of it succeeded (rows alone may
    // be a partial first enumeration); one without (drives) once its table has rows.
    let is = scopes ? at !== null : table !== undefined && (await hasRows(table));
    // Items and permissions of a tenant without a single drive: nothing to collect.
    if (!is && (cap === 'drive_item' || cap === 'permission' || cap === 'item_label'))
      is = (await hasRows('user_drives')) && !(await hasRows('drives', true));
    if (scopes || table) collected.set(cap, { collected: is, at });
  }

  const failing = states.filter(
    (s) =>
      s.scope.startsWith('drive:') &&
      s.last_error_code !== null &&
      (s.last_success_at === null || (s.last_error_at !== null && s.last_error_at >= s.last_success_at)),
  );
  const driveIds = failing.map((s) => s.scope.slice('drive:'.length));
  const drives = new Map<string, { name: string | null; owner_email: string | null }>();
  for (let i = 0; i < driveIds.length; i += 500) {
    const rows = await db
      .selectFrom('drives')
      .select(['id', 'name', 'owner_email'])
      .where('integration_id', '=', integrationId)
      .where('id', 'in', driveIds.slice(i, i + 500))
      .execute();
    for (const r of rows) drives.set(r.id, r);
  }
  return {
    integrationId,
    integrationName: integration?.name ?? null,
    probe,
    probedAt: integration?.probed_at ?? null,
    collected,
    typeWideErrors,
    failingDrives: failing.map((s) => {
      const driveId = s.scope.slice('drive:'.length);
      return {
        driveId,
        name: drives.get(driveId)?.name ?? null,
        owner: drives.get(driveId)?.owner_email ?? null,
        code: s.last_error_code as string,
        message: s.last_error_message,
        since: s.last_error_at,
      };
    }),
  };
}

function uses(cap: string): Capability[] {
  return capabilities().filter((c) => c.capability === cap);
}

/** The probe's word on a capability: its own probe, else one of the same permission's. */
function probeStatus(facts: AvailabilityFacts, cap: string): string | undefined {
  if (!facts.probe) return undefined;
  if (facts.probe[cap] !== undefined) return facts.probe[cap];
  const permissions = new Set(uses(cap).map((c) => c.permission));
  for (const other of capabilities())
    if (permissions.has(other.permission) && facts.probe[other.capability] !== undefined)
      return facts.probe[other.capability];
  return undefined;
}

function permissionText(cap: string): string {
  const list = uses(cap);
  if (list.length === 0) return `the Graph permission behind ${cap}`;
  return list.map((c) => `the Graph permission ${c.permission} (needed for ${c.neededFor})`).join(' and ');
}

/** Why the capability's data is missing, or null when it is there. */
export function capabilityProblem(facts: AvailabilityFacts, cap: string): string | null {
  const state = facts.collected.get(cap);
  const error = facts.typeWideErrors.get(cap);
  const collectedSinceProbe =
    !error &&
    state?.at !== null &&
    state?.at !== undefined &&
    facts.probedAt !== null &&
    state.at > facts.probedAt;
  if (probeStatus(facts, cap) === 'missing' && !collectedSinceProbe)
    return `${permissionText(cap)} is not granted, so ${cap} data cannot be read: grant it to the app registration, then run \`drivewarden sync\``;
  if (error) {
    const denied =
      error.status === 403 || error.code === 'accessDenied' || error.code === 'Authorization_RequestDenied';
    return `collecting ${cap} fails since ${error.since} (${error.code}${error.status ? `, HTTP ${error.status}` : ''}: ${error.message})${
      denied ? `: ${permissionText(cap)} is probably not granted` : ''
    }`;
  }
  if (state && !state.collected)
    return `${cap} has never been collected for this integration: run \`drivewarden sync\``;
  return null;
}

/** Why the rule cannot be evaluated for the integration (every missing capability), or null. */
export function blockedReason(
  facts: AvailabilityFacts,
  rule: Pick<RuleDefinition, 'requires'>,
): string | null {
  const problems = rule.requires
    .map((cap) => capabilityProblem(facts, cap))
    .filter((p): p is string => p !== null);
  return problems.length ? `data missing: ${problems.join('; ')}` : null;
}

/** The failing drives a rule reports on (rules over drives, items and permissions only). */
export function failingDrivesFor(
  facts: AvailabilityFacts,
  rule: Pick<RuleDefinition, 'resource_type'>,
): FailingDrive[] {
  return DRIVE_TYPES.has(rule.resource_type) ? facts.failingDrives : [];
}

export function failingDriveReason(d: FailingDrive): string {
  return `collection of drive ${d.name ?? d.driveId}${d.owner ? ` (${d.owner})` : ''} is failing since ${d.since ?? 'an unknown time'} (${d.code}${d.message ? `: ${d.message}` : ''}): results for its items may be out of date`;
}
