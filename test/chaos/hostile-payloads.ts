/**
 * Hostile Graph payloads: fast-check arbitraries over the resource schemas
 * (hostile-arbitraries.ts) mutate entries of the pages the simulator sends (drive items,
 * permissions, users, groups) before the collector maps and applies them: fields dropped,
 * wrong types, huge strings, unicode and path characters, prototype keys. A seeded Prng picks
 * the entries and each mutation's fast-check seed, so a round is reproducible from its seed.
 * The sync must finish, report item-level errors, and keep every entry it was sent unmutated.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Prng } from '../../sim/model/prng.ts';
import { syncIntegration } from '../../src/collect/sync.ts';
import type { GraphClient, GraphPage } from '../../src/graph/types.ts';
import { openStore } from '../../src/store/store.ts';
import { simClient, simContext } from '../support/collector.ts';
import { startTestSim } from '../support/simulator.ts';
import { hostileMutation, type Json, schemaForUrl } from './hostile-arbitraries.ts';

/** A Graph client whose pages have some entries mutated; records which ids went through clean. */
export function hostileClient(inner: GraphClient, rng: Prng, rate: number) {
  const state = {
    mutated: 0,
    kinds: new Map<string, number>(),
    cleanItemIds: new Set<string>(),
    mutatedIds: new Set<string>(),
    parentOf: new Map<string, string>(),
  };
  const client: GraphClient = {
    ...inner,
    pages: async function* <T>(req: Parameters<GraphClient['pages']>[0]): AsyncGenerator<GraphPage<T>> {
      for await (const page of inner.pages<T>(req)) {
        const value = page.value.map((entry) => {
          const obj = entry as unknown as Record<string, Json>;
          const isItemDelta =
            /\/drives\/[^/]+\/root\/delta|\/root\/delta/.test(req.url) ||
            /^https?:.*\/drives\//.test(req.url);
          if (obj && typeof obj === 'object' && rng.next() < rate) {
            const m = hostileMutation(obj, schemaForUrl(req.url), rng.int(0, 2 ** 31 - 1));
            if (typeof obj.id === 'string') state.mutatedIds.add(obj.id);
            state.mutated++;
            state.kinds.set(m.what.split(' ')[0], (state.kinds.get(m.what.split(' ')[0]) ?? 0) + 1);
            return m.value as unknown as T;
          }
          if (isItemDelta && obj && typeof obj.id === 'string' && obj.deleted == null && obj.root == null)
            state.cleanItemIds.add(obj.id);
          const parent = (obj as { parentReference?: { id?: unknown } } | null)?.parentReference?.id;
          if (isItemDelta && obj && typeof obj.id === 'string' && typeof parent === 'string')
            state.parentOf.set(obj.id, parent);
          return entry;
        });
        yield { ...page, value };
      }
    },
  };
  return { client, state };
}

export interface HostileReport {
  badInputs: number;
  /** Clean drive items the store lacks after the sync. */
  lost: number;
  crashes: number;
  polluted: boolean;
  invalidItemsReported: number;
  /** Clean items below a folder whose entry was mutated (not required to be stored). */
  underBadFolder: number;
  problems: string[];
}

export async function hostilePayloadRuns(rounds: number, seed = 31, rate = 0.08): Promise<HostileReport> {
  const env = await startTestSim({ seed, users: 8, items: 400 });
  const dir = mkdtempSync(join(tmpdir(), 'dw-chaos-hostile-'));
  const report: HostileReport = {
    badInputs: 0,
    lost: 0,
    crashes: 0,
    polluted: false,
    invalidItemsReported: 0,
    underBadFolder: 0,
    problems: [],
  };
  try {
    for (let round = 0; round < rounds; round++) {
      const store = await openStore({ file: join(dir, `h${round}.db`) });
      const inner = simClient(env.sim);
      const { client, state } = hostileClient(inner, new Prng(seed * 1000 + round), rate);
      const integrationId = `int-h${round}`;
      try {
        const r = await syncIntegration(simContext(store, env.sim, client, integrationId), { mode: 'full' });
        report.badInputs += state.mutated;
        report.invalidItemsReported += r.errors.length;
        const stored = new Set(
          (
            await store.db
              .selectFrom('drive_items')
              .select('id')
              .where('integration_id', '=', integrationId)
              .execute()
          ).map((x) => x.id),
        );
        // A clean item under a folder whose own entry was mutated cannot be placed (no path):
        // only items whose every ancestor came through clean must be stored.
        const underMutated = (id: string) => {
          for (let p = state.parentOf.get(id), n = 0; p && n < 100; p = state.parentOf.get(p), n++)
            if (state.mutatedIds.has(p)) return true;
          return false;
        };
        report.underBadFolder += [...state.cleanItemIds].filter(underMutated).length;
        const missing = [...state.cleanItemIds].filter((id) => !stored.has(id) && !underMutated(id));
        if (missing.length > 0) {
          report.lost += missing.length;
          report.problems.push(
            `round ${round}: ${missing.length} clean items not stored (${missing.slice(0, 3)})`,
          );
        }
      } catch (e) {
        report.crashes++;
        report.badInputs += state.mutated;
        report.problems.push(`round ${round}: sync threw ${(e as Error).stack?.slice(0, 500)}`);
      } finally {
        await inner.close();
        await store.close();
      }
      // biome-ignore lint/suspicious/noExplicitAny: probing for prototype pollution
      if (({} as any).polluted !== undefined || ({} as any).isAdmin !== undefined) report.polluted = true;
    }
  } finally {
    await env.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return report;
}
