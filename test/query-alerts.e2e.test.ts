import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseChannelConfig } from '../src/alerts/channels/config.ts';
import { type Alerts, openAlerts, savedQueryExists } from '../src/app/alerts.ts';
import { type AppContext, assembleApp } from '../src/app/context.ts';
import { loadConfig } from '../src/config/config.ts';
import { SavedQueries } from '../src/query/saved-queries.ts';
import { type HttpReceiver, startHttpReceiver } from './support/alert-receivers.ts';
import { addGuest } from './support/guest-user.ts';
import { quietLogger } from './support/logger.ts';
import { seedRuleTenant } from './support/rule-tenant.ts';
import { openTestStore, type TestStore, testDialects } from './support/store.ts';
import { sleep, waitFor } from './support/wait.ts';

/**
 * Query alerts (issue 10): a policy on a saved query alerts once when the query's result
 * changes (rows added, removed), through the outbox to a real local HTTP receiver; no change
 * → no alert; a new router (a restart) → no duplicate. On both dialects, with the app's own
 * wiring (saved queries run by the guarded query process); the CLI path on SQLite.
 */

const GUESTS_SQL =
  "select id, user_principal_name from users where user_type = 'Guest' and deleted_at is null order by id";

for (const dialect of testDialects()) {
  describe(`query alerts end to end (${dialect})`, () => {
    let t: TestStore;
    let app: AppContext;
    let alerts: Alerts;
    let receiver: HttpReceiver;
    let dir: string;

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'dw-query-alerts-'));
      t = await openTestStore(dialect);
      const config = loadConfig(
        {},
        { dataDir: dir, logLevel: 'silent', alerts: { allowPrivateTargets: true } },
      );
      app = assembleApp(config, quietLogger, t.store);
      await seedRuleTenant(t.store);
      await new SavedQueries(t.store).save({
        name: 'guests',
        description: 'guest accounts',
        sql: GUESTS_SQL,
      });
      receiver = await startHttpReceiver({ dedupe: true });
      alerts = openAlerts(app);
      await alerts.channels.add(
        'hook',
        parseChannelConfig('webhook', {
          url: receiver.url,
          secret: `whsec_${randomBytes(24).toString('base64')}`,
        }),
      );
    });
    after(async () => {
      await alerts?.close();
      await receiver?.close();
      await t?.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    const outboxCount = async () =>
      Number(
        (
          await t.db
            .selectFrom('alert_outbox')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );

    it('refuses a policy on a query that does not exist, or with a rate limit', async () => {
      const exists = (name: string) => savedQueryExists(app, name);
      await assert.rejects(
        alerts.policies.add(
          { name: 'nope', kind: 'query', channels: ['hook'], filter: { query: 'no-such-query' } },
          { queryExists: exists },
        ),
        /no saved query "no-such-query"/,
      );
      await assert.rejects(
        alerts.policies.add(
          {
            name: 'limited',
            kind: 'query',
            channels: ['hook'],
            filter: { query: 'guests' },
            rateLimit: { max: 1, perSeconds: 60 },
          },
          { queryExists: exists },
        ),
        /rate limits and quiet hours are for event policies/,
      );
      await assert.rejects(
        alerts.policies.add({
          name: 'bad',
          kind: 'query',
          channels: ['hook'],
          filter: { query: 'Bad Name' },
        }),
        /filter\.query: is not a saved query name/,
      );
    });

    it('baseline, no change → no alert; a row added → exactly one alert at the receiver; restart → no duplicate', async () => {
      const policy = await alerts.policies.add(
        {
          name: 'new-guests',
          kind: 'query',
          channels: ['hook'],
          filter: { query: 'guests', everySeconds: 0 },
          severity: 'high',
        },
        { queryExists: (name) => savedQueryExists(app, name) },
      );
      assert.equal(policy.kind, 'query');
      alerts.worker.start();

      const first = await alerts.router.route();
      assert.equal(first.deliveries, 0, 'the first run is the baseline');
      const idle = await alerts.router.route();
      assert.equal(idle.deliveries, 0, 'nothing changed');
      assert.equal(await outboxCount(), 0);

      await addGuest(t.store, 'ivan');
      const changed = await alerts.router.route();
      assert.deepEqual(changed, { events: 1, alerts: 1, deliveries: 1, held: 0 });
      alerts.worker.notify();
      await waitFor('the alert at the receiver', () => receiver.requests.length === 1);
      const body = (
        receiver.requests[0].json as {
          data: { title: string; severity: string; items: Array<{ event: string; resourceName: string }> };
        }
      ).data;
      assert.match(body.title, /query guests: 1 row added, 0 removed/);
      assert.equal(body.severity, 'high');
      assert.equal(body.items.length, 1);
      assert.equal(body.items[0].event, 'added');
      assert.match(body.items[0].resourceName, /ivan_fabrikam\.com#EXT#/);

      // A restart: new router and worker on the same store.
      await alerts.close();
      alerts = openAlerts(app);
      alerts.worker.start();
      const restarted = await alerts.router.route();
      assert.equal(restarted.deliveries, 0, 'no duplicate after a restart');
      await alerts.worker.drain();
      await sleep(100);
      assert.equal(receiver.requests.length, 1);
      assert.equal(await outboxCount(), 1);

      // A row removed (the guest deleted: a tombstone) → one alert naming it.
      await t.db
        .updateTable('users')
        .set({ deleted_at: new Date().toISOString() })
        .where('id', '=', 'g-gina')
        .execute();
      const removed = await alerts.router.route();
      assert.equal(removed.alerts, 1);
      alerts.worker.notify();
      await waitFor('the second alert', () => receiver.requests.length === 2);
      const second = (
        receiver.requests[1].json as {
          data: { title: string; items: Array<{ event: string; resourceName: string }> };
        }
      ).data;
      assert.match(second.title, /query guests: 0 rows added, 1 removed/);
      assert.equal(second.items[0].event, 'removed');
      assert.match(second.items[0].resourceName, /gina/);
      const state = await t.db
        .selectFrom('alert_query_state')
        .select(['row_count', 'last_error'])
        .where('policy_id', '=', policy.id)
        .executeTakeFirstOrThrow();
      assert.equal(state.last_error, null);
      assert.ok(state.row_count >= 2);
    });
  });
}
