import { detectOffHours } from './detectors/off-hours.ts';
import { detectQuotaSpikes } from './detectors/quota-spike.ts';
import { detectSensitiveLinks } from './detectors/sensitive-link.ts';
import { detectUnusualIp } from './detectors/unusual-ip.ts';
import { auditedDeleteDrives, detectHistoryDeletes, detectVolume } from './detectors/volume.ts';
import type { DetectorSettings } from './settings.ts';
import type { ActivityEvent, Detection, QuotaSample } from './types.ts';

export interface DetectInput {
  /** Events to judge and their baseline (unusual_ip looks back `baseline_days` before `since`). */
  events: readonly ActivityEvent[];
  quota?: readonly QuotaSample[];
  /** Items removed according to the inventory's history (mass_delete where audit is silent). */
  removals?: readonly ActivityEvent[];
  /** Only detections whose evidence reaches past this (ms) are returned. */
  since: number;
  settings: DetectorSettings;
}

/** Every enabled detector over the input; detections whose evidence ends before `since` are dropped. */
export function detectAll(input: DetectInput): Detection[] {
  const { events, settings, since } = input;
  const on = settings.enabled;
  const p = settings.params;
  const out: Detection[] = [];
  if (on.mass_delete) {
    out.push(...detectVolume('mass_delete', events, p.mass_delete));
    if (input.removals)
      out.push(...detectHistoryDeletes(input.removals, auditedDeleteDrives(events), p.mass_delete));
  }
  if (on.mass_download) out.push(...detectVolume('mass_download', events, p.mass_download));
  if (on.mass_external_share) out.push(...detectVolume('mass_external_share', events, p.mass_external_share));
  if (on.new_anonymous_link_on_sensitive)
    out.push(...detectSensitiveLinks(events, p.new_anonymous_link_on_sensitive));
  if (on.unusual_ip) out.push(...detectUnusualIp(events, p.unusual_ip, since));
  if (on.off_hours_bulk_access) out.push(...detectOffHours(events, p.off_hours_bulk_access));
  if (on.quota_spike && input.quota) out.push(...detectQuotaSpikes(input.quota, p.quota_spike, since));
  return out.filter((d) => Date.parse(d.to) >= since);
}
