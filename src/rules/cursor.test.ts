import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CompiledQuery } from 'kysely';
import { fixtureRules } from '../../test/support/rules.ts';
import { openTestStore, testDialects } from '../../test/support/store.ts';
import { waitFor } from '../../test/support/wait.ts';
import { committedChangeBound, StaleEvaluationError, writeCursor } from './cursor.ts';
import { evaluateIntegration } from './evaluate.ts';

/**
 * The cursor never passes a change that commits later (PostgreSQL hands out ids before
 * commit), and an evaluation older than the one already written is dropped.
 */

const change = (id: number | null) => ({
  integration_id: 'int-c',
  tenant_id: 't',
  resource_type: 'user' as const,
  resource_id: `u${id ?? 'x'}`,
  drive_id: null,
  item_id: null,
  group_id: null,
  change_type: 'added' as const,
  fields: '[]',
  before: null,
  after: null,
  actor: null,
  source: 'full',
  observed_at: new Date().toISOString(),
});

for (const dialect of testDialects()) {
  describe(`the rules cursor (${dialect})`, () => {
    test('results older than the cursor are dropped, not written', async () => {
      const ts = await openTestStore(dialect);
      try {
        await ts.db
          .transaction()
          .execute((trx) =>
            writeCursor(trx, 'int-c', { changeId: 1_000, evaluatedAt: new Date().toISOString(), full: true }),
          );
        await assert.rejects(
          evaluateIntegration(ts.store, { integrationId: 'int-c', mode: 'full', rules: fixtureRules() }),
          StaleEvaluationError,
        );
        assert.equal((await ts.db.selectFrom('findings').select('id').execute()).length, 0);
      } finally {
        await ts.cleanup();
      }
    });
  });
}

if (testDialects().includes('postgres')) {
  describe('the committed-change bound (postgres)', () => {
    test('waits for a transaction that inserted a change: the bound includes it once it commits', async () => {
      const ts = await openTestStore('postgres', { maxConnections: 4 });
      try {
        await ts.db.insertInto('changes').values(change(1)).execute();
        let pending = 0;
        let asked: Promise<number> | undefined;
        await ts.db.transaction().execute(async (trx) => {
          const { rows } = await trx.executeQuery(
            CompiledQuery.raw(
              `insert into changes (integration_id, tenant_id, resource_type, resource_id, change_type, fields, source, observed_at)
               values ('int-c', 't', 'user', 'late', 'added', '[]', 'full', now()) returning id`,
            ),
          );
          pending = Number((rows[0] as { id: number }).id);
          // Asked while the insert is uncommitted (the transaction commits when this returns).
          asked = committedChangeBound(ts.store, 'int-c');
          await waitFor('the bound to wait on the table lock', async () => {
            const { rows } = await ts.db.executeQuery(
              CompiledQuery.raw(
                `select 1 from pg_stat_activity where datname = current_database()
                 and wait_event_type = 'Lock' and query like 'lock table changes%'`,
              ),
            );
            return rows.length > 0;
          });
        });
        const bound = await asked;
        assert.ok(pending > 0);
        assert.equal(bound, pending, 'the bound waited for the uncommitted change');
      } finally {
        await ts.cleanup();
      }
    });
  });
}
