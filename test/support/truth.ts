/** The check that an inventory equals the simulator's ground truth (collector tests, e2e, bench). */
import type { SimAdminClient } from '../../sim/admin-client.ts';
import type { Store } from '../../src/store/store.ts';
import { compareWithTruth, type OracleOptions, type TruthDiff } from './truth-oracle.ts';

export type { OracleOptions, TruthDiff } from './truth-oracle.ts';

/**
 * Differences between the inventory and the simulator's truth (empty missing/extra = exact):
 * every typed column of every resource table and, unless `options.history` is false, the
 * history replayed (see truth-oracle.ts).
 */
export async function diffWithTruth(
  store: Store,
  integrationId: string,
  admin: SimAdminClient,
  options: OracleOptions = {},
): Promise<TruthDiff> {
  return compareWithTruth(store, integrationId, admin, options);
}

/** A short human report of a diff for assertion messages. */
export function describeDiff(d: TruthDiff, max = 8): string {
  return [
    `missing ${d.missing.length}, extra ${d.extra.length}`,
    ...d.missing.slice(0, max).map((k) => `  - ${k}`),
    ...d.extra.slice(0, max).map((k) => `  + ${k}`),
  ].join('\n');
}
