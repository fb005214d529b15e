import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import { GraphError } from '../graph/errors.ts';
import type { GraphClient } from '../graph/types.ts';
import { tenantSettingsSchema } from '../resources/tenant-settings.ts';
import { canonical } from '../store/codec.ts';
import type { Dialect } from '../store/dialect.ts';
import type { Database } from '../store/schema.ts';
import { recordAction } from './trail.ts';

/**
 * Fixing tenant settings: PATCH /admin/sharepoint/settings with only the properties that
 * change (SharePointTenantSettings.ReadWrite.All). The plan is read from Graph (one GET),
 * shows each property before → after, and is re-read before the PATCH: a setting changed
 * since the dry run stops the fix. The trail keeps the values before and as Graph answered.
 */

export class SettingsFixError extends Error {}

export const MISSING_SETTINGS_READWRITE =
  'the app registration lacks the application permission SharePointTenantSettings.ReadWrite.All, which ' +
  'Graph requires to change tenant settings. Add it in Entra ID (App registrations → API permissions → ' +
  'Microsoft Graph → Application permissions), grant admin consent, then run this again. Nothing was changed.';

type Kind = 'boolean' | 'number' | 'list' | 'text' | 'object';
const SHAPE = tenantSettingsSchema.shape as Record<string, { safeParse(v: unknown): { success: boolean } }>;

/** The settable sharepointSettings properties drivewarden knows, with the kind of value each takes. */
export function settableProperties(): Map<string, Kind> {
  const out = new Map<string, Kind>();
  for (const [name, type] of Object.entries(SHAPE)) {
    if (name === 'id') continue;
    const kind: Kind = type.safeParse(true).success
      ? 'boolean'
      : type.safeParse(1).success
        ? 'number'
        : type.safeParse([]).success
          ? 'list'
          : type.safeParse('x').success
            ? 'text'
            : 'object';
    out.set(name, kind);
  }
  return out;
}

function parseValue(name: string, kind: Kind, raw: string): unknown {
  const bad = (what: string) => new SettingsFixError(`${name}: expected ${what}, got "${raw}"`);
  switch (kind) {
    case 'boolean': {
      const v = raw.trim().toLowerCase();
      if (['true', 'on', 'yes'].includes(v)) return true;
      if (['false', 'off', 'no'].includes(v)) return false;
      throw bad('true or false');
    }
    case 'number': {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n)) throw bad('a number');
      return n;
    }
    case 'list':
      return raw.trim() === ''
        ? []
        : raw
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean);
    case 'text':
      return raw;
    case 'object':
      try {
        const v = JSON.parse(raw);
        if (v && typeof v === 'object' && !Array.isArray(v)) return v;
      } catch {
        // reported below
      }
      throw bad('a JSON object');
  }
}

/** `name=value` assignments (`--set`) → the properties to PATCH, each checked by name and kind. */
export function parseAssignments(assignments: string[]): Record<string, unknown> {
  if (assignments.length === 0)
    throw new SettingsFixError('nothing to change: give at least one --set name=value');
  const known = settableProperties();
  const out: Record<string, unknown> = {};
  for (const a of assignments) {
    const eq = a.indexOf('=');
    if (eq <= 0) throw new SettingsFixError(`"${a}": expected name=value`);
    const name = a.slice(0, eq).trim();
    const kind = known.get(name);
    if (!kind)
      throw new SettingsFixError(
        `unknown sharepointSettings property "${name}" (known: ${[...known.keys()].join(', ')})`,
      );
    out[name] = parseValue(name, kind, a.slice(eq + 1));
  }
  return out;
}

export interface SettingsChange {
  property: string;
  before: unknown;
  after: unknown;
}

export interface SettingsPlan {
  id: string;
  integrationId: string;
  changes: SettingsChange[];
  /** Properties asked for that already have the value. */
  unchanged: string[];
}

async function readSettings(client: GraphClient): Promise<Record<string, unknown>> {
  const res = await client.request<Record<string, unknown>>({
    url: '/admin/sharepoint/settings',
    resource: 'tenantSettings',
  });
  const body = res.body ?? {};
  const inner =
    body.value && typeof body.value === 'object' && !Array.isArray(body.value) ? body.value : body;
  return inner as Record<string, unknown>;
}

/** The dry run: Graph's current values against the desired ones (one GET, nothing changed). */
export async function planSettings(
  client: GraphClient,
  integrationId: string,
  desired: Record<string, unknown>,
): Promise<SettingsPlan> {
  const current = await readSettings(client);
  const changes: SettingsChange[] = [];
  const unchanged: string[] = [];
  for (const [property, after] of Object.entries(desired)) {
    const before = current[property] ?? null;
    if (canonical(before) === canonical(after)) unchanged.push(property);
    else changes.push({ property, before, after });
  }
  const id = createHash('sha256').update(integrationId).update(canonical(changes)).digest('hex').slice(0, 12);
  return { id, integrationId, changes, unchanged };
}

export interface SettingsFixResult {
  result: 'done' | 'skipped' | 'failed';
  /** The values Graph answered after the PATCH (the changed properties). */
  after: Record<string, unknown> | null;
  requestId: string | null;
  error: string | null;
  trailId: number | null;
}

export async function applySettingsPlan(
  deps: { db: Kysely<Database>; dialect: Dialect; client: GraphClient; actor: string; now?: () => Date },
  plan: SettingsPlan,
): Promise<SettingsFixResult> {
  if (plan.changes.length === 0)
    return { result: 'done', after: {}, requestId: null, error: null, trailId: null };
  const now = deps.now ?? (() => new Date());
  const requestedAt = now().toISOString();
  const body = Object.fromEntries(plan.changes.map((c) => [c.property, c.after]));
  const before = Object.fromEntries(plan.changes.map((c) => [c.property, c.before]));
  const current = await readSettings(deps.client);
  const drifted = plan.changes.filter((c) => canonical(current[c.property] ?? null) !== canonical(c.before));
  let out: Omit<SettingsFixResult, 'trailId'>;
  let httpStatus: number | null = null;
  if (drifted.length > 0) {
    out = {
      result: 'skipped',
      after: null,
      requestId: null,
      error: `changed since the dry run: ${drifted.map((c) => c.property).join(', ')}; run the dry run again`,
    };
  } else {
    try {
      const res = await deps.client.request<Record<string, unknown>>({
        method: 'PATCH',
        url: '/admin/sharepoint/settings',
        body,
        resource: 'tenantSettings',
      });
      httpStatus = res.status;
      const answered =
        res.body?.value && typeof res.body.value === 'object'
          ? (res.body.value as Record<string, unknown>)
          : (res.body ?? {});
      out = {
        result: 'done',
        after: Object.fromEntries(plan.changes.map((c) => [c.property, answered[c.property] ?? null])),
        requestId: res.requestId ?? null,
        error: null,
      };
    } catch (err) {
      if (!(err instanceof GraphError)) throw err;
      httpStatus = err.status;
      out = {
        result: 'failed',
        after: null,
        requestId: err.requestId ?? null,
        error: err.isAccessDenied ? MISSING_SETTINGS_READWRITE : err.message,
      };
    }
  }
  const trailId = await recordAction(deps.db, deps.dialect, {
    integration_id: plan.integrationId,
    plan_id: plan.id,
    action: 'update_tenant_settings',
    origin: 'settings',
    drive_id: null,
    item_id: null,
    permission_id: null,
    item_path: null,
    reason: `set ${plan.changes.map((c) => `${c.property}=${canonical(c.after)}`).join(', ')}`,
    before,
    after: out.after,
    actor: deps.actor,
    requested_at: requestedAt,
    finished_at: now().toISOString(),
    result: out.result,
    http_status: httpStatus,
    request_id: out.requestId,
    error: out.error,
  });
  return { ...out, trailId };
}
