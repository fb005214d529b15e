import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openTestStore, testDialects } from '../../test/support/store.ts';
import { GraphError } from '../graph/errors.ts';
import type { GraphClient, GraphPage, GraphRequest } from '../graph/types.ts';
import type { ChangeSource } from '../store/apply.ts';
import type { Store } from '../store/store.ts';
import { getSyncState, putSyncState } from '../store/sync-state.ts';
import type { SyncContext } from './context.ts';
import { type FeedSpec, runFeed } from './feed.ts';

type Script = Record<string, GraphPage<unknown> | GraphError>;

/** A client serving scripted pages by URL (following nextLinks), recording what was asked. */
function scriptedClient(script: Script, asked: string[]): GraphClient {
  const unused = () => {
    throw new Error('not scripted');
  };
  return {
    request: unused,
    batch: unused,
    stats: () => ({ requests: 0, ruSpent: 0, throttledResponses: 0, throttleWaitMs: 0, retries: 0 }),
    close: async () => {},
    pages: async function* <T>(req: GraphRequest) {
      let url: string | undefined = req.url;
      while (url) {
        asked.push(url);
        const page: GraphPage<unknown> | GraphError | undefined = script[url];
        if (!page) throw new Error(`unscripted ${url}`);
        if (page instanceof GraphError) throw page;
        yield page as GraphPage<T>;
        url = page.nextLink;
      }
    },
  };
}

const gone = () => new GraphError({ status: 410, code: 'resyncRequired', message: 'gone', resource: 'x' });
const stale = () => new GraphError({ status: 400, code: 'badRequest', message: 'stale', resource: 'x' });
const denied = () => new GraphError({ status: 403, code: 'accessDenied', message: 'no', resource: 'x' });

/** What each committed page and sweep saw. */
interface Seen {
  pages: Array<{ entries: unknown[]; kind: string; source: ChangeSource; started: string | null }>;
  sweeps: string[];
}

for (const dialect of testDialects()) {
  describe(`checkpointed feed (${dialect})`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    before(async () => {
      ({ store, cleanup } = await openTestStore(dialect));
    });
    after(async () => cleanup());

    let n = 0;
    /** A feed over `script` in a fresh scope; `failOn` makes that page's work throw (a crash before commit). */
    function feed(script: Script, over: Partial<FeedSpec> & { failOn?: unknown } = {}) {
      const asked: string[] = [];
      const seen: Seen = { pages: [], sweeps: [] };
      const ctx: SyncContext = {
        store,
        client: scriptedClient(script, asked),
        integration: { id: 'int-feed', name: 'feed', tenantId: 't', verifiedDomains: [] },
      };
      const spec: FeedSpec = {
        scope: over.scope ?? `feed-${n++}`,
        resource: 'users',
        subject: 'user',
        url: '/start',
        delta: true,
        source: 'delta',
        enumerationSource: 'full',
        page: async (page, round) => {
          if (over.failOn !== undefined && page.value.includes(over.failOn)) throw new Error('killed');
          return async () => {
            seen.pages.push({ entries: page.value, ...round });
            return [];
          };
        },
        sweep: async (_actx, started) => {
          seen.sweeps.push(started);
          return [];
        },
        ...over,
      };
      return {
        ctx,
        spec,
        asked,
        seen,
        run: () => runFeed(ctx, spec),
        state: () => getSyncState(store.db, 'int-feed', spec.scope),
      };
    }

    const twoPages: Script = {
      '/start': { value: [1], nextLink: '/p2' },
      '/p2': { value: [2], deltaLink: '/d1' },
      '/d1': { value: [3], deltaLink: '/d2' },
    };

    test('an enumeration commits each page with its checkpoint, sweeps at the end and keeps the deltaLink', async () => {
      const committed: unknown[] = [];
      const f = feed(twoPages, {
        committed: (page, records, round) => committed.push([page.value[0], records.length, round.phase]),
      });
      const r = await f.run();
      assert.deepEqual(committed, [
        [1, 0, 'enumerating'],
        [2, 0, 'enumerating'],
      ]);
      assert.deepEqual(
        { kind: r.kind, resynced: r.resynced, pages: r.pages, entries: r.entries },
        { kind: 'enumeration', resynced: false, pages: 2, entries: 2 },
      );
      assert.deepEqual(
        f.seen.pages.map((p) => [p.entries[0], p.kind, p.source]),
        [
          [1, 'enumeration', 'full'],
          [2, 'enumeration', 'full'],
        ],
      );
      assert.equal(f.seen.sweeps.length, 1);
      const s = await f.state();
      assert.equal(s?.phase, 'idle');
      assert.equal(s?.deltaLink, '/d1');
      assert.equal(s?.nextLink, null);
      assert.ok(s?.lastFullSyncAt && s.lastDeltaAt && s.lastSuccessAt);

      // The next round is incremental, from the deltaLink, with the feed's own source and no sweep.
      const r2 = await f.run();
      assert.equal(r2.kind, 'incremental');
      assert.deepEqual(f.asked.slice(-1), ['/d1']);
      assert.deepEqual(f.seen.pages.at(-1), {
        entries: [3],
        kind: 'incremental',
        phase: 'delta',
        source: 'delta',
        started: null,
      });
      assert.equal(f.seen.sweeps.length, 1);
      assert.equal((await f.state())?.deltaLink, '/d2');
    });

    test('a killed enumeration resumes from its last checkpoint and sweeps from its original start', async () => {
      const killed = feed(twoPages, { failOn: 2 });
      await assert.rejects(killed.run(), /killed/);
      const mid = await killed.state();
      assert.equal(mid?.phase, 'enumerating');
      assert.equal(mid?.nextLink, '/p2');
      const resumed = feed(twoPages, { scope: killed.spec.scope });
      const r = await resumed.run();
      assert.deepEqual(resumed.asked, ['/p2']);
      assert.equal(r.kind, 'enumeration');
      assert.deepEqual(resumed.seen.sweeps, [mid?.enumerationStartedAt]);
    });

    test('a 410 on the deltaLink restarts as a resync enumeration (source resync, resumable as such)', async () => {
      const script: Script = { ...twoPages, '/d1': gone() };
      const f = feed(script);
      await f.run();
      const killed = feed(script, { scope: f.spec.scope, failOn: 2 });
      await assert.rejects(killed.run(), /killed/);
      assert.equal((await killed.state())?.phase, 'resyncing');
      assert.deepEqual(killed.asked, ['/d1', '/start', '/p2']);
      assert.deepEqual(
        killed.seen.pages.map((p) => p.source),
        ['resync'],
      );
      const resumed = feed(script, { scope: f.spec.scope });
      const r = await resumed.run();
      assert.equal(r.kind, 'enumeration');
      assert.deepEqual(
        resumed.seen.pages.map((p) => p.source),
        ['resync'],
      );
      assert.equal(resumed.seen.sweeps.length, 1);
      assert.equal((await resumed.state())?.phase, 'idle');
    });

    test('a stale resume link restarts the enumeration; a 4xx on a fresh start or a 403 is the caller’s', async () => {
      const scope = `feed-${n++}`;
      await putSyncState(store.db, 'int-feed', scope, {
        phase: 'enumerating',
        enumerationStartedAt: new Date().toISOString(),
        nextLink: '/old',
      });
      const f = feed({ ...twoPages, '/old': stale() }, { scope });
      const r = await f.run();
      assert.ok(r.resynced);
      assert.deepEqual(f.asked, ['/old', '/start', '/p2']);
      assert.deepEqual(
        f.seen.pages.map((p) => p.source),
        ['full', 'full'],
      );

      await assert.rejects(feed({ '/start': stale() }).run(), /stale/);
      await putSyncState(store.db, 'int-feed', scope, { deltaLink: '/denied' });
      await assert.rejects(feed({ ...twoPages, '/denied': denied() }, { scope }).run(), /no/);
    });

    test('a listing never keeps a deltaLink and enumerates every round', async () => {
      const f = feed(
        { '/start': { value: [1] } },
        { delta: false, source: 'full', enumerationSource: undefined },
      );
      await f.run();
      await f.run();
      assert.deepEqual(f.asked, ['/start', '/start']);
      assert.equal(f.seen.sweeps.length, 2);
      const s = await f.state();
      assert.equal(s?.deltaLink, null);
      assert.equal(s?.lastDeltaAt, null);
      assert.ok(s?.lastFullSyncAt);
    });
  });
}
