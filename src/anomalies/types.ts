/**
 * Anomaly detection (RULES.md "Anomaly detectors"): pure functions over audit events (and,
 * for quota_spike, drive quota history) that return detections. Writing them as findings
 * (rule_id = detector id) happens above this layer (app/), through the findings API.
 */

export const DETECTOR_IDS = [
  'mass_delete',
  'mass_download',
  'mass_external_share',
  'new_anonymous_link_on_sensitive',
  'unusual_ip',
  'off_hours_bulk_access',
  'quota_spike',
] as const;

export type DetectorId = (typeof DETECTOR_IDS)[number];

export type Severity = 'low' | 'medium' | 'high' | 'critical';

/** The audit event fields detectors read (a row of audit_events). */
export interface ActivityEvent {
  id: string;
  /** Epoch ms of CreationTime. */
  time: number;
  operation: string;
  actor: string | null;
  ip: string | null;
  driveId: string | null;
  itemId: string | null;
  objectUrl: string | null;
  fileName: string | null;
  extension: string | null;
  targetName: string | null;
  targetType: string | null;
  linkScope: string | null;
}

/** One observation of a drive's used bytes (drives.quota_used history). */
export interface QuotaSample {
  driveId: string;
  owner: string | null;
  time: number;
  used: number;
}

export interface Detection {
  detector: DetectorId;
  severity: Severity;
  /** What the finding is about: the actor ('user'), a file ('drive_item') or a drive ('drive'). */
  resourceType: 'user' | 'drive_item' | 'drive';
  resourceId: string;
  driveId: string | null;
  itemId: string | null;
  /** Who did it (UPN), or the drive owner for quota_spike. */
  actor: string | null;
  reason: string;
  /** Time span of the evidence (ISO). */
  from: string;
  to: string;
  /** The events that triggered it: count and ids (the first `EVIDENCE_IDS`). */
  evidence: { count: number; eventIds: string[]; details: Record<string, unknown> };
}

export const EVIDENCE_IDS = 100;

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
