import { z } from 'zod';
import type { DetectorId } from './types.ts';

/**
 * Thresholds and windows of every detector (RULES.md defaults). Per integration they are
 * overridden like rule parameters: rule_settings rows with rule_id = the detector id
 * (`enabled`, `params`), validated here so a bad value names the detector and the field.
 */

const positive = z.number().positive();
const count = z.number().int().positive();

const schemas = {
  mass_delete: z.object({ severity: z.string(), threshold: count, window_minutes: positive }).strict(),
  mass_download: z.object({ severity: z.string(), threshold: count, window_minutes: positive }).strict(),
  mass_external_share: z
    .object({ severity: z.string(), threshold: count, window_minutes: positive })
    .strict(),
  new_anonymous_link_on_sensitive: z
    .object({ severity: z.string(), extensions: z.array(z.string()), names: z.array(z.string()) })
    .strict(),
  unusual_ip: z
    .object({
      severity: z.string(),
      baseline_days: positive,
      /** The actor needs activity at least this old before a new address counts as unusual. */
      min_history_hours: z.number().min(0),
      /** IPv4 prefix length compared (16 ≈ a provider's block; 32 = the exact address). */
      ipv4_prefix_bits: z.number().int().min(8).max(32),
      /** A prefix someone in the tenant used within the baseline is not unusual (offices, VPN, carriers). */
      ignore_tenant_prefixes: z.boolean(),
    })
    .strict(),
  off_hours_bulk_access: z
    .object({
      severity: z.string(),
      threshold: count,
      window_minutes: positive,
      /** Working hours in the tenant's time zone: [start, end) local hours, days 1 = Monday … 7 = Sunday. */
      work_start_hour: z.number().min(0).max(24),
      work_end_hour: z.number().min(0).max(24),
      work_days: z.array(z.number().int().min(1).max(7)),
      utc_offset_minutes: z.number().int().min(-840).max(840),
    })
    .strict(),
  quota_spike: z
    .object({
      severity: z.string(),
      growth_percent: positive,
      window_hours: positive,
      min_bytes: z.number().min(0),
    })
    .strict(),
} satisfies Record<DetectorId, z.ZodTypeAny>;

export type DetectorParams = { [K in DetectorId]: z.infer<(typeof schemas)[K]> };

export const DEFAULT_PARAMS: DetectorParams = {
  mass_delete: { severity: 'high', threshold: 100, window_minutes: 10 },
  mass_download: { severity: 'high', threshold: 50, window_minutes: 1 },
  mass_external_share: { severity: 'high', threshold: 20, window_minutes: 60 },
  new_anonymous_link_on_sensitive: {
    severity: 'critical',
    extensions: ['pem', 'pfx', 'p12', 'key', 'kdbx', 'env', 'ppk'],
    names: ['id_rsa', 'id_dsa', 'id_ecdsa', 'id_ed25519', '.env'],
  },
  unusual_ip: {
    severity: 'medium',
    baseline_days: 30,
    min_history_hours: 24,
    ipv4_prefix_bits: 16,
    ignore_tenant_prefixes: true,
  },
  off_hours_bulk_access: {
    severity: 'medium',
    threshold: 30,
    window_minutes: 60,
    work_start_hour: 7,
    work_end_hour: 20,
    work_days: [1, 2, 3, 4, 5],
    utc_offset_minutes: 60,
  },
  quota_spike: { severity: 'medium', growth_percent: 20, window_hours: 24, min_bytes: 100 * 1024 * 1024 },
};

const SEVERITIES = new Set(['low', 'medium', 'high', 'critical']);

export interface DetectorSettings {
  enabled: Record<DetectorId, boolean>;
  params: DetectorParams;
}

/** Defaults overlaid with per-detector overrides; throws naming the detector and field of a bad value. */
export function resolveDetectorSettings(
  overrides: Partial<Record<DetectorId, { enabled?: boolean; params?: Record<string, unknown> }>> = {},
): DetectorSettings {
  const enabled = {} as Record<DetectorId, boolean>;
  const params = {} as Record<DetectorId, unknown>;
  for (const id of Object.keys(schemas) as DetectorId[]) {
    const o = overrides[id];
    enabled[id] = o?.enabled ?? true;
    const merged = { ...DEFAULT_PARAMS[id], ...(o?.params ?? {}) };
    const parsed = schemas[id].safeParse(merged);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(`detector ${id}: parameter ${issue.path.join('.') || '(params)'}: ${issue.message}`);
    }
    if (!SEVERITIES.has((parsed.data as { severity: string }).severity))
      throw new Error(`detector ${id}: severity must be one of low, medium, high, critical`);
    params[id] = parsed.data;
  }
  return { enabled, params: params as DetectorParams };
}
