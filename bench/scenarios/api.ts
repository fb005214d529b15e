/**
 * api: the REST API's list and filter endpoints over a collected inventory (default 2,000
 * users, 1,000,000 items, the full-sync tenant). The API runs in this process on the store
 * (migrations, 0720's indexes included, applied on open), a viewer token calls each endpoint
 * `--runs` times after two warm-up calls, and the figures are p50/p99 per endpoint and over all.
 *
 * `--inventory DIR` uses a copy of a kept data directory (`--scenario api --keep`,
 * `--scenario rules --keep` or `--scenario full-sync --keep` leave `<temp>/data`); without it
 * the tenant is collected first (a few minutes at 1,000,000 items).
 */
import { createApiToken, createUser } from '../../src/auth/principals.ts';
import { loadConfig } from '../../src/config/config.ts';
import { createServer } from '../../src/server/app.ts';
import { openStore } from '../../src/store/store.ts';
import { createLogger } from '../../src/util/logger.ts';
import { numberFlag, percentile, round, type Scenario } from '../harness.ts';
import { prepareInventory } from '../lib/inventory.ts';
import { productEnv } from '../lib/product.ts';
import { scenarioDir } from '../lib/temp.ts';

export const apiBench: Scenario = {
  name: 'api',
  description: 'REST API list and filter endpoints on a collected inventory: p50/p99 per endpoint',
  async run(ctx) {
    const users = numberFlag(ctx, 'users', 2_000, 20);
    const items = numberFlag(ctx, 'items', 1_000_000, 3_000);
    const seed = numberFlag(ctx, 'seed', 1, 1);
    const runs = numberFlag(ctx, 'runs', 30, 5);
    const tmp = scenarioDir('api', ctx.flags.keep === 'true');
    try {
      const p = productEnv(tmp.dir);
      await prepareInventory(ctx, p, tmp.dir, { seed, users, items });
      let t0 = performance.now();
      const store = await openStore({ dataDir: p.dataDir });
      const openS = round((performance.now() - t0) / 1000, 1);
      ctx.log(`store open (migrations included) in ${openS} s`);
      const config = loadConfig({}, { dataDir: p.dataDir, logLevel: 'silent' });
      const logger = createLogger('silent');
      const server = await createServer({
        config,
        store,
        logger,
        deps: {
          api: {
            config,
            db: store.db,
            dialect: store.dialect,
            commands: {
              run: async () => {
                throw new Error('the api bench only reads');
              },
            },
            logger,
          },
        },
      });
      try {
        await server.listen({ host: '127.0.0.1', port: 0 });
        const port = (server.server.address() as { port: number }).port;
        const user = await createUser(store.db, {
          username: `bench-${Date.now()}`,
          password: null,
          role: 'viewer',
        });
        const { token } = await createApiToken(store.db, {
          userId: user.id,
          name: 'api bench',
          role: 'viewer',
        });
        const get = async (path: string) => {
          const res = await fetch(`http://127.0.0.1:${port}/api/v1${path}`, {
            headers: { authorization: `Bearer ${token}` },
          });
          const body = (await res.json()) as {
            items?: unknown[];
            nextCursor?: string | null;
            drives?: unknown[];
            files?: unknown[];
          };
          if (res.status !== 200)
            throw new Error(`${path}: ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
          return body;
        };
        // Inputs taken from the store: an owner, a deep cursor, a word of a path.
        const owner = await store.db
          .selectFrom('drives')
          .select('owner_email')
          .where('owner_email', 'is not', null)
          .orderBy('quota_used', 'desc')
          .executeTakeFirst();
        let cursor: string | null | undefined = null;
        for (let i = 0; i < 20; i++)
          cursor = (await get(`/inventory/items?limit=100${cursor ? `&cursor=${cursor}` : ''}`)).nextCursor;
        const endpoints: Record<string, string> = {
          items: '/inventory/items',
          items_page_21: `/inventory/items?limit=100&cursor=${cursor}`,
          items_size_desc: '/inventory/items?sort=-size',
          items_modified_desc: '/inventory/items?sort=-modified',
          items_path: '/inventory/items?sort=path',
          items_public: '/inventory/items?exposure=public',
          items_external_by_modified: '/inventory/items?exposure=external&sort=-modified',
          items_anonymous_links: '/inventory/items?linkScope=anonymous',
          items_guest: '/inventory/items?guest=true',
          items_pdf_over_1mb: '/inventory/items?extension=pdf&minSize=1048576',
          items_folders: '/inventory/items?folder=true',
          items_q: '/inventory/items?q=report',
          items_owner: `/inventory/items?owner=${encodeURIComponent(owner?.owner_email ?? 'nobody')}`,
          items_stale: '/inventory/items?lastAccessedBefore=2020-01-01T00:00:00Z&folder=false',
          users: '/inventory/users',
          users_guests: '/inventory/users?guest=true',
          groups: '/inventory/groups',
          drives_by_used: '/inventory/drives?sort=-used',
          permissions: '/inventory/permissions',
          permissions_anonymous: '/inventory/permissions?linkScope=anonymous&sort=-firstSeen',
          storage_usage: '/storage/usage?by=user',
          storage_top: '/storage/top',
        };
        const figures: Record<string, number | string> = {};
        const everything: number[] = [];
        t0 = performance.now();
        for (const [name, path] of Object.entries(endpoints)) {
          const times: number[] = [];
          let rows = 0;
          for (let i = 0; i < runs + 2; i++) {
            const s = performance.now();
            const body = await get(path);
            const ms = performance.now() - s;
            if (i >= 2) times.push(ms);
            // Lists answer `items`; /storage/top its top drives and largest files.
            rows = body.items?.length ?? (body.drives?.length ?? 0) + (body.files?.length ?? 0);
          }
          everything.push(...times);
          figures[`${name}_p50_ms`] = round(percentile(times, 50), 1);
          figures[`${name}_p99_ms`] = round(percentile(times, 99), 1);
          figures[`${name}_rows`] = rows;
          ctx.log(
            `${name}: p50 ${figures[`${name}_p50_ms`]} ms, p99 ${figures[`${name}_p99_ms`]} ms, ${rows} rows`,
          );
        }
        const overviewTimes: number[] = [];
        for (let i = 0; i < 3; i++) {
          const s = performance.now();
          await get('/overview');
          overviewTimes.push(performance.now() - s);
        }
        const [{ n }] = await store.db
          .selectFrom('drive_items')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('deleted_at', 'is', null)
          .execute();
        return {
          items: Number(n),
          runs,
          store_open_s: openS,
          p50_ms: round(percentile(everything, 50), 1),
          p99_ms: round(percentile(everything, 99), 1),
          max_ms: round(Math.max(...everything), 1),
          // The first call counts exposure over every live file; the next ones reuse it for a minute.
          overview_cold_ms: round(overviewTimes[0], 1),
          overview_ms: round(percentile(overviewTimes, 50), 1),
          bench_s: round((performance.now() - t0) / 1000, 1),
          ...figures,
        };
      } finally {
        await server.close();
        await store.close();
      }
    } finally {
      tmp.cleanup();
    }
  },
};
