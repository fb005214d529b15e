import { whatCanReach, whoCanReach } from '../../src/access/reach.ts';
import { openStore, type StoreOptions } from '../../src/store/store.ts';
import { round } from '../harness.ts';

/**
 * Times the two effective-access questions on a collected store: "who can reach X" for items
 * of every exposure, "what can Y reach" (first 1,000 items) for the users with the most
 * drives' worth of sharing. Each query runs alone on an idle store; figures in ms.
 */
export async function timeReachQueries(
  target: StoreOptions,
  integrationId: string,
  samples = 20,
): Promise<Record<string, number>> {
  const store = await openStore(target);
  try {
    const items: Array<{ drive_id: string; id: string }> = [];
    for (const exposure of ['public', 'external', 'internal', 'private'])
      items.push(
        ...(await store.db
          .selectFrom('drive_items')
          .select(['drive_id', 'id'])
          .where('integration_id', '=', integrationId)
          .where('exposure', '=', exposure)
          .where('deleted_at', 'is', null)
          .limit(Math.ceil(samples / 4))
          .execute()),
      );
    const users = await store.db
      .selectFrom('users')
      .select('user_principal_name')
      .where('integration_id', '=', integrationId)
      .where('deleted_at', 'is', null)
      .where('user_principal_name', 'is not', null)
      .limit(samples)
      .execute();
    const who: number[] = [];
    for (const i of items) {
      const t = performance.now();
      await whoCanReach(store.db, integrationId, i.drive_id, i.id);
      who.push(performance.now() - t);
    }
    const what: number[] = [];
    let reached = 0;
    for (const u of users) {
      const t = performance.now();
      const r = await whatCanReach(store.db, integrationId, u.user_principal_name as string, { limit: 1000 });
      what.push(performance.now() - t);
      reached += r.roots.length + r.linkRoots.organization + r.linkRoots.anyone;
    }
    const pct = (xs: number[], p: number) =>
      xs.length === 0
        ? 0
        : round([...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))], 2);
    return {
      who_can_reach_samples: who.length,
      who_can_reach_p50_ms: pct(who, 0.5),
      who_can_reach_max_ms: pct(who, 1),
      what_can_reach_samples: what.length,
      what_can_reach_p50_ms: pct(what, 0.5),
      what_can_reach_max_ms: pct(what, 1),
      what_can_reach_roots_mean: what.length === 0 ? 0 : round(reached / what.length, 1),
    };
  } finally {
    await store.close();
  }
}
