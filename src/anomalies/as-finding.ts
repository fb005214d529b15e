import type { FindingInput } from '../store/tables/rules.ts';
import type { Detection } from './types.ts';

/**
 * A detection as the findings writer takes it (FindingInput, rule_id = the detector id): keyed
 * like rule rows (drive items `drive/item`, users and drives their id), always an alarm, the
 * evidence in details. The writer lives on the rules side, so app/ joins the two: anomalies/
 * and rules/ may not import each other; the shape is the store's.
 */
export type DetectionFinding = FindingInput & { ruleId: string };

export function asFinding(d: Detection): DetectionFinding {
  const key = d.resourceType === 'drive_item' && d.driveId ? `${d.driveId}/${d.resourceId}` : d.resourceId;
  return {
    ruleId: d.detector,
    key,
    resource_type: d.resourceType,
    resource_id: d.resourceId,
    drive_id: d.driveId,
    item_id: d.itemId,
    result: 'alarm',
    severity: d.severity,
    reason: d.reason,
    details: { actor: d.actor, from: d.from, to: d.to, evidence: d.evidence },
    resource_name: d.resourceType === 'user' ? d.actor : null,
    resource_path: null,
    resource_owner: d.actor,
  };
}

/** Several detections of one detector and resource (bursts over the span) become one finding: the latest. */
export function findingsOf(detections: readonly Detection[]): DetectionFinding[] {
  const latest = new Map<string, Detection>();
  for (const d of detections) {
    const id = `${d.detector}|${asFinding(d).key}`;
    const seen = latest.get(id);
    if (!seen || d.to > seen.to) latest.set(id, d);
  }
  return [...latest.values()].map(asFinding);
}
