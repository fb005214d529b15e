import type { Kysely } from 'kysely';
import { z } from 'zod';
import { describeLimit, listStoragePolicies } from '../../../../rules/storage-policies.ts';
import { decodeValue } from '../../../../store/codec.ts';
import type { Database } from '../../../../store/schema.ts';

/**
 * Storage policies (src/rules/storage-policies.ts) with their violations: the open findings of
 * the built-in rule that judges drives against them (drive_storage_policy_respected), whose
 * details name the policy that applied. A drive is judged by its most specific policy only.
 */
export const STORAGE_POLICY_RULE = 'drive_storage_policy_respected';

export const policiesQuerySchema = z.object({
  integrationId: z.string().min(1).max(200).optional().describe('Only this integration'),
});

export const storagePolicySchema = z.object({
  id: z.number(),
  integrationId: z.string(),
  scopeKind: z.enum(['user', 'group']),
  scopeId: z.string(),
  scopeName: z.string().nullable(),
  limitBytes: z.number().nullable(),
  limitPercent: z.number().nullable(),
  limit: z.string().describe("The limit as people read it: '50 GB' or '80% of quota'"),
  warningThreshold: z.number(),
  violationThreshold: z.number(),
  description: z.string().nullable(),
  createdAt: z.string(),
  violations: z.array(
    z.object({
      findingId: z.number(),
      driveId: z.string(),
      owner: z.string().nullable(),
      name: z.string().nullable(),
      severity: z.string().describe('high: over the limit; medium: past the warning threshold'),
      message: z.string(),
      usedBytes: z.number().nullable(),
      limitBytes: z.number().nullable(),
      since: z.string(),
    }),
  ),
});

export async function storagePolicies(db: Kysely<Database>, integrationId?: string) {
  const policies = await listStoragePolicies(db, integrationId ? { integrationId } : {});
  let fq = db
    .selectFrom('findings')
    .select([
      'id',
      'integration_id',
      'resource_id',
      'resource_name',
      'resource_owner',
      'severity',
      'reason',
      'details',
      'first_seen',
    ])
    .where('rule_id', '=', STORAGE_POLICY_RULE)
    .where('status', '=', 'open')
    .where('result', '=', 'alarm')
    .orderBy('id');
  if (integrationId) fq = fq.where('integration_id', '=', integrationId);
  const findings = await fq.execute();
  const byPolicy = new Map<string, z.infer<typeof storagePolicySchema>['violations']>();
  for (const f of findings) {
    const details = (decodeValue('json', f.details) ?? {}) as Record<string, unknown>;
    if (details.policy_id === undefined || details.policy_id === null) continue;
    const key = `${f.integration_id}\u0000${Number(details.policy_id)}`;
    const list = byPolicy.get(key) ?? [];
    list.push({
      findingId: Number(f.id),
      driveId: f.resource_id,
      owner: f.resource_owner,
      name: f.resource_name,
      severity: f.severity,
      message: f.reason,
      usedBytes:
        details.used_bytes === undefined || details.used_bytes === null ? null : Number(details.used_bytes),
      limitBytes:
        details.limit_bytes === undefined || details.limit_bytes === null
          ? null
          : Number(details.limit_bytes),
      since: f.first_seen,
    });
    byPolicy.set(key, list);
  }
  return policies.map((p) => ({
    id: p.id,
    integrationId: p.integrationId,
    scopeKind: p.scopeKind,
    scopeId: p.scopeId,
    scopeName: p.scopeName,
    limitBytes: p.limitBytes,
    limitPercent: p.limitPercent,
    limit: describeLimit(p),
    warningThreshold: p.warningThreshold,
    violationThreshold: p.violationThreshold,
    description: p.description,
    createdAt: p.createdAt,
    violations: byPolicy.get(`${p.integrationId}\u0000${p.id}`) ?? [],
  }));
}
