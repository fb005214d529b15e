import { findingsOf } from '../anomalies/as-finding.ts';
import { readAnomalyCursor, writeAnomalyCursor } from '../anomalies/baselines.ts';
import { type DetectionPosition, detectNew, type RunDetectorsOptions } from '../anomalies/run.ts';
import { DETECTOR_IDS } from '../anomalies/types.ts';
import {
  addCounts,
  applyOutcome,
  type FindingInput,
  noCounts,
  type OutcomeCounts,
} from '../rules/findings.ts';
import { activeSuppressions } from '../rules/suppressions.ts';
import { decodeValue } from '../store/codec.ts';
import type { Store } from '../store/store.ts';

/**
 * Detections become findings (rule_id = the detector id) through the rules' findings writer,
 * so they get the same events, suppressions and alerts as rule findings. anomalies/ and
 * rules/ may not import each other: this is where they meet.
 *
 * Each round judges what arrived since the integration's detection cursor (anomalies/run.ts
 * detectNew) and writes its findings and the cursor in one transaction: a kill between rounds
 * or mid-round neither loses nor doubles a detection. A round that finds the cursor moved by
 * someone else writes nothing.
 *
 * A detection is a past event, not a state: nothing the detectors stop seeing resolves it
 * (the outcome covers no resource); people resolve it by suppressing it with a reason. A
 * burst seen again updates the same finding; an older burst (late content) does not replace
 * a newer one.
 */
export async function recordDetections(
  store: Store,
  integrationId: string,
  opts: Omit<RunDetectorsOptions, 'hours'> & { hours?: number } = {},
): Promise<OutcomeCounts & { detections: number; written: boolean }> {
  const found = await detectNew(store.db, integrationId, {
    now: opts.now,
    settings: opts.settings,
    firstRunHours: opts.hours,
    stats: opts.stats,
  });
  const byDetector = new Map<string, Map<string, FindingInput>>(DETECTOR_IDS.map((id) => [id, new Map()]));
  for (const { ruleId, ...finding } of findingsOf(found.detections))
    byDetector.get(ruleId)?.set(finding.key, finding);
  const nowMs = opts.now ?? Date.now();
  const now = new Date(nowMs).toISOString();
  let counts = noCounts();
  const written = await store.db.transaction().execute(async (trx) => {
    const current = await readAnomalyCursor(trx, integrationId);
    const at: DetectionPosition = {
      event:
        current?.detected_observed_at && current.detected_event_id
          ? { observedAt: current.detected_observed_at, id: current.detected_event_id }
          : null,
      changeId: current?.detected_change_id ?? null,
    };
    if (!samePosition(at, found.from)) return false;
    const suppressions = await activeSuppressions(trx, integrationId, now);
    const o = { db: trx, dialect: store.dialect, integrationId, now, suppressions };
    for (const [id, results] of byDetector) {
      if (results.size === 0) continue;
      await keepNewest(trx, integrationId, id, results);
      if (results.size === 0) continue;
      counts = addCounts(counts, await applyOutcome(o, { rule: { id }, results, covers: new Set() }));
    }
    await writeAnomalyCursor(
      trx,
      integrationId,
      {
        detected_observed_at: found.to.event?.observedAt ?? null,
        detected_event_id: found.to.event?.id ?? null,
        detected_change_id: found.to.changeId,
      },
      now,
    );
    return true;
  });
  return { ...counts, detections: found.detections.length, written };
}

function samePosition(a: DetectionPosition, b: DetectionPosition): boolean {
  return (
    a.changeId === b.changeId && a.event?.observedAt === b.event?.observedAt && a.event?.id === b.event?.id
  );
}

/** Drops results whose evidence ends before the stored finding's (an older burst found late). */
async function keepNewest(
  db: Store['db'],
  integrationId: string,
  ruleId: string,
  results: Map<string, FindingInput>,
): Promise<void> {
  const rows = await db
    .selectFrom('findings')
    .select(['resource_key', 'details'])
    .where('integration_id', '=', integrationId)
    .where('rule_id', '=', ruleId)
    .where('resource_key', 'in', [...results.keys()])
    .execute();
  for (const r of rows) {
    const stored = (decodeValue('json', r.details) as { to?: string } | null)?.to;
    const fresh = results.get(r.resource_key)?.details.to as string | undefined;
    if (stored && fresh && fresh < stored) results.delete(r.resource_key);
  }
}
