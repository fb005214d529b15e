import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openTestStore, type TestStore, testDialects } from '../../test/support/store.ts';
import { checkQueryAllowed, queryTargetOf } from '../store/sql-guard/check-query.ts';
import { QueryError } from '../store/sql-guard/errors.ts';
import { parseChannelConfig } from './channels/config.ts';
import { alertsHarness } from './test-support.ts';

const TOKEN = 'T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXabcd';

for (const dialect of testDialects()) {
  describe(`alert channels at rest (${dialect})`, () => {
    let t: TestStore;
    before(async () => {
      t = await openTestStore(dialect);
    });
    after(() => t.cleanup());

    it('seals the configuration, shows the target masked, and the query console cannot read it', async () => {
      const h = alertsHarness(t.store);
      try {
        const added = await h.channels.add(
          'ops',
          parseChannelConfig('slack', { url: `https://hooks.slack.com/services/${TOKEN}` }),
        );
        assert.equal(added.target, 'https://hooks.slack.com/…abcd');
        const row = await t.db.selectFrom('alert_channels').selectAll().executeTakeFirstOrThrow();
        assert.ok(!JSON.stringify(row).includes(TOKEN.slice(0, 20)), 'nothing of the token in the row');
        assert.match(row.config_enc, /^v1:/);
        const config = await h.channels.config(added.id);
        assert.equal(
          config?.kind === 'slack' && config.config.url,
          `https://hooks.slack.com/services/${TOKEN}`,
        );
        // Another key cannot open it.
        const other = alertsHarness(t.store);
        await assert.rejects(other.channels.config(added.id), /cannot decrypt secret/);
        await other.close();
        for (const text of ['select config_enc from alert_channels', 'select * from alert_channels']) {
          await assert.rejects(
            checkQueryAllowed(queryTargetOf(t.store), text),
            (err: unknown) =>
              err instanceof QueryError &&
              /alert_channels\.config_enc holds a secret|whole rows of alert_channels include secrets/.test(
                err.message,
              ),
            text,
          );
        }
        await checkQueryAllowed(queryTargetOf(t.store), 'select name, kind, target from alert_channels');
      } finally {
        await h.close();
      }
    });
  });
}
