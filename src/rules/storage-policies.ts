import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';
import type { PolicyScopeKind, StoragePoliciesTable } from '../store/tables/policies.ts';

/**
 * Storage policies: a limit on the used bytes of the drives of one user, or of every
 * transitive member of one group, in bytes or as a percent of each drive's quota. The
 * built-in rule drive_storage_policy_respected judges drives against them and picks the most
 * specific policy per drive (a user's own, else the smallest group's).
 *
 * Thresholds are fractions of the limit (0.9 = 90 %): a drive is in warning when its used bytes
 * reach warning × limit, in violation when they exceed violation × limit. Sizes are binary
 * (1 GB = 1 GiB = 1024³ bytes), as OneDrive reports quotas.
 */

export const DEFAULT_WARNING_THRESHOLD = 0.9;
export const DEFAULT_VIOLATION_THRESHOLD = 1;

export class StoragePolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoragePolicyError';
  }
}

export type StoragePolicyLimit = { bytes: number } | { percent: number };

export interface StoragePolicyInput {
  integrationId: string;
  scope: { kind: PolicyScopeKind; ref: string };
  limit: StoragePolicyLimit;
  /** Fraction of the limit; default 0.9. */
  warning?: number;
  /** Fraction of the limit; default 1. */
  violation?: number;
  description?: string;
  createdBy?: string;
}

export interface StoragePolicy {
  id: number;
  integrationId: string;
  scopeKind: PolicyScopeKind;
  scopeId: string;
  /** The user's UPN or the group's display name, when the directory holds it. */
  scopeName: string | null;
  limitBytes: number | null;
  limitPercent: number | null;
  warningThreshold: number;
  violationThreshold: number;
  description: string | null;
  createdAt: string;
  createdBy: string | null;
}

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1024,
  kib: 1024,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
  tb: 1024 ** 4,
  tib: 1024 ** 4,
};

/** '50GB', '1.5 TB', '500mib', '1048576' → bytes (binary units). */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? UNITS[(m[2] || 'b').toLowerCase()] : undefined;
  if (!m || unit === undefined) {
    throw new StoragePolicyError(`size "${text}" is not a number of bytes or a size such as 50GB or 1.5TB`);
  }
  const bytes = Math.round(Number(m[1]) * unit);
  if (bytes <= 0 || !Number.isSafeInteger(bytes))
    throw new StoragePolicyError(`size "${text}" is out of range`);
  return bytes;
}

/** '80%' or '80' → 80; a percent of the drive's quota, in (0, 100] with at most two decimals. */
export function parsePercent(text: string): number {
  const m = /^\s*(\d+(?:\.\d{1,2})?)\s*%?\s*$/.exec(text);
  const value = m ? Number(m[1]) : Number.NaN;
  if (!(value > 0 && value <= 100)) {
    throw new StoragePolicyError(`percent "${text}" must be above 0 and at most 100 (two decimals at most)`);
  }
  return value;
}

/** '90%' → 0.9, '0.9' → 0.9, '110%' → 1.1: a threshold as a fraction of the limit. */
export function parseThreshold(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$/.exec(text);
  const value = m ? Number(m[1]) / (m[2] ? 100 : 1) : Number.NaN;
  if (!(value > 0 && value <= 10)) {
    throw new StoragePolicyError(`threshold "${text}" must be a percent of the limit such as 90% (or 0.9)`);
  }
  return value;
}

/** The Graph id and name of the user (id, UPN or e-mail) or group (id, display name or e-mail). */
export async function resolveScope(
  db: Kysely<Database>,
  integrationId: string,
  kind: PolicyScopeKind,
  ref: string,
): Promise<{ id: string; name: string | null }> {
  const wanted = ref.trim().toLowerCase();
  if (!wanted) throw new StoragePolicyError(`the ${kind} is empty`);
  const found =
    kind === 'user'
      ? await db
          .selectFrom('users')
          .select(['id', 'user_principal_name as name'])
          .where('integration_id', '=', integrationId)
          .where('deleted_at', 'is', null)
          .where((eb) =>
            eb.or([
              eb('id', '=', ref.trim()),
              eb(eb.fn('lower', ['user_principal_name']), '=', wanted),
              eb('mail', '=', wanted),
            ]),
          )
          .orderBy('id')
          .execute()
      : await db
          .selectFrom('groups')
          .select(['id', 'display_name as name'])
          .where('integration_id', '=', integrationId)
          .where('deleted_at', 'is', null)
          .where((eb) =>
            eb.or([
              eb('id', '=', ref.trim()),
              eb(eb.fn('lower', ['display_name']), '=', wanted),
              eb('mail', '=', wanted),
            ]),
          )
          .orderBy('id')
          .execute();
  if (found.length === 0) {
    throw new StoragePolicyError(
      kind === 'user'
        ? `no user "${ref}" in this integration (give the UPN, e-mail or Graph id of a collected user)`
        : `no group "${ref}" in this integration (give the display name, e-mail or Graph id of a collected group)`,
    );
  }
  if (found.length > 1) {
    throw new StoragePolicyError(
      `"${ref}" names ${found.length} ${kind}s (${found.map((f) => f.id).join(', ')}): give the Graph id`,
    );
  }
  return { id: found[0].id, name: found[0].name };
}

/** Validates and stores a policy; the scope is resolved to its Graph id. */
export async function addStoragePolicy(
  db: Kysely<Database>,
  input: StoragePolicyInput,
  now = new Date().toISOString(),
): Promise<StoragePolicy> {
  const warning = input.warning ?? DEFAULT_WARNING_THRESHOLD;
  const violation = input.violation ?? DEFAULT_VIOLATION_THRESHOLD;
  checkLimit(input.limit);
  if (!(warning > 0 && warning <= violation)) {
    throw new StoragePolicyError(
      `the warning threshold (${pct(warning)}) must be above 0 and at most the violation threshold (${pct(violation)})`,
    );
  }
  const scope = await resolveScope(db, input.integrationId, input.scope.kind, input.scope.ref);
  const existing = await db
    .selectFrom('storage_policies')
    .select('id')
    .where('integration_id', '=', input.integrationId)
    .where('scope_kind', '=', input.scope.kind)
    .where('scope_id', '=', scope.id)
    .executeTakeFirst();
  if (existing) {
    throw new StoragePolicyError(
      `${input.scope.kind} ${scope.name ?? scope.id} already has storage policy ${existing.id}: remove it first`,
    );
  }
  const row = await db
    .insertInto('storage_policies')
    .values({
      integration_id: input.integrationId,
      scope_kind: input.scope.kind,
      scope_id: scope.id,
      limit_bytes: 'bytes' in input.limit ? input.limit.bytes : null,
      limit_percent: 'percent' in input.limit ? input.limit.percent : null,
      warning_threshold: warning,
      violation_threshold: violation,
      description: input.description?.trim() || null,
      created_at: now,
      created_by: input.createdBy ?? null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const [policy] = await listStoragePolicies(db, { integrationId: input.integrationId, id: Number(row.id) });
  return policy;
}

function checkLimit(limit: StoragePolicyLimit): void {
  if ('bytes' in limit && !(Number.isSafeInteger(limit.bytes) && limit.bytes > 0)) {
    throw new StoragePolicyError(`the byte limit must be a positive whole number, got ${limit.bytes}`);
  }
  if ('percent' in limit && !(limit.percent > 0 && limit.percent <= 100)) {
    throw new StoragePolicyError(`the percent limit must be above 0 and at most 100, got ${limit.percent}`);
  }
}

/** Policies (of one integration, or one by id), oldest first, with the scope's current name. */
export async function listStoragePolicies(
  db: Kysely<Database>,
  filter: { integrationId?: string; id?: number } = {},
): Promise<StoragePolicy[]> {
  let q = db
    .selectFrom('storage_policies as p')
    .leftJoin('users as u', (j) =>
      j
        .onRef('u.integration_id', '=', 'p.integration_id')
        .onRef('u.id', '=', 'p.scope_id')
        .on('p.scope_kind', '=', 'user'),
    )
    .leftJoin('groups as g', (j) =>
      j
        .onRef('g.integration_id', '=', 'p.integration_id')
        .onRef('g.id', '=', 'p.scope_id')
        .on('p.scope_kind', '=', 'group'),
    )
    .selectAll('p')
    .select(['u.user_principal_name', 'g.display_name'])
    .orderBy('p.integration_id')
    .orderBy('p.id');
  if (filter.integrationId !== undefined) q = q.where('p.integration_id', '=', filter.integrationId);
  if (filter.id !== undefined) q = q.where('p.id', '=', filter.id);
  const rows = await q.execute();
  return rows.map((r) => toPolicy(r, r.user_principal_name ?? r.display_name ?? null));
}

/** Removes a policy by id; throws when there is none. */
export async function removeStoragePolicy(db: Kysely<Database>, id: number): Promise<StoragePolicy> {
  const [policy] = await listStoragePolicies(db, { id });
  if (!policy) throw new StoragePolicyError(`no storage policy ${id}`);
  await db.deleteFrom('storage_policies').where('id', '=', id).execute();
  return policy;
}

type PolicyRow = Omit<StoragePoliciesTable, 'id'> & { id: number | string };

function toPolicy(r: PolicyRow, scopeName: string | null): StoragePolicy {
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    id: Number(r.id),
    integrationId: r.integration_id,
    scopeKind: r.scope_kind,
    scopeId: r.scope_id,
    scopeName,
    limitBytes: num(r.limit_bytes),
    limitPercent: num(r.limit_percent),
    warningThreshold: Number(r.warning_threshold),
    violationThreshold: Number(r.violation_threshold),
    description: r.description,
    createdAt: r.created_at,
    createdBy: r.created_by,
  };
}

/** 0.9 → '90%'. */
export function pct(fraction: number): string {
  return `${Math.round(fraction * 10000) / 100}%`;
}

/** Bytes → '50 GB' / '1.5 TB' (binary units, as parseSize reads them). */
export function formatSize(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${Math.round(value * 10) / 10} ${units[unit]}`;
}

/** '50 GB' or '80% of quota', the limit as people read it. */
export function describeLimit(p: Pick<StoragePolicy, 'limitBytes' | 'limitPercent'>): string {
  return p.limitBytes !== null ? formatSize(p.limitBytes) : `${p.limitPercent}% of quota`;
}
