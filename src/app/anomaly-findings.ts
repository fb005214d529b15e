import { findingsOf } from '../anomalies/as-finding.ts';
import { type RunDetectorsOptions, runDetectors } from '../anomalies/run.ts';
import { DETECTOR_IDS } from '../anomalies/types.ts';
import {
  addCounts,
  applyOutcome,
  type FindingInput,
  noCounts,
  type OutcomeCounts,
} from '../rules/findings.ts';
import { activeSuppressions } from '../rules/suppressions.ts';
import type { Store } from '../store/store.ts';

/**
 * Detections become findings (rule_id = the detector id) through the rules' findings writer,
 * so they get the same events, suppressions and alerts as rule findings. anomalies/ and
 * rules/ may not import each other: this is where they meet.
 *
 * A detection is a past event, not a state: nothing the detectors stop seeing resolves it
 * (the outcome covers no resource); people resolve it by suppressing it with a reason. A
 * burst seen again over an overlapping span updates the same finding.
 */
export async function recordDetections(
  store: Store,
  integrationId: string,
  opts: RunDetectorsOptions = {},
): Promise<OutcomeCounts & { detections: number }> {
  const detections = await runDetectors(store.db, integrationId, opts);
  const byDetector = new Map<string, Map<string, FindingInput>>(DETECTOR_IDS.map((id) => [id, new Map()]));
  for (const { ruleId, ...finding } of findingsOf(detections))
    byDetector.get(ruleId)?.set(finding.key, finding);
  const now = new Date(opts.now ?? Date.now()).toISOString();
  let counts = noCounts();
  await store.db.transaction().execute(async (trx) => {
    const suppressions = await activeSuppressions(trx, integrationId, now);
    const o = { db: trx, dialect: store.dialect, integrationId, now, suppressions };
    for (const [id, results] of byDetector) {
      if (results.size === 0) continue;
      counts = addCounts(counts, await applyOutcome(o, { rule: { id }, results, covers: new Set() }));
    }
  });
  return { ...counts, detections: detections.length };
}
