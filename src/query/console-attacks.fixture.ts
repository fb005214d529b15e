import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { openTestStore, testDialects } from '../../test/support/store.ts';
import type { Dialect } from '../store/dialect.ts';
import type { Store } from '../store/store.ts';
import { QueryError, type QueryTarget, queryTargetOf, runReadOnlyQuery } from './run-query.ts';
import { inventorySnapshot, SEED, seedInventory } from './seed-inventory.fixture.ts';

/**
 * The harness of the console attack tests (console-attacks, console-escapes): every attack
 * is refused (or stopped) with a message that says why, its text never holds a secret, and
 * afterwards the inventory and the secrets are exactly as seeded. Two files so that each
 * stays within the runner's time per file (a PostgreSQL attack starts a query process).
 */

export interface Attack {
  what: string;
  sql: string;
  /** The message the console answers with. */
  says: RegExp;
  /** Only on this dialect (the other has no such syntax or function). */
  only?: Dialect;
  /** `sql` when the database itself rejects it (no such function or syntax); default `refused`. */
  kind?: 'refused' | 'sql' | 'timeout';
}

export const NOT_A_QUERY =
  /^refused: only queries run here \(SELECT, WITH … SELECT, VALUES\); this statement starts with /;
export const ONE_STATEMENT = /^refused: one statement at a time/;
export const WRITES =
  /^refused: .*(change the database|only queries that return rows|writes a table|locks rows)/;
export const SECRET =
  /^refused: (integrations\.(secret_enc|certificate_enc)|graph_subscriptions\.client_state) holds a secret/;
export const WHOLE_ROW = /^refused: (whole rows?|a whole row) of (integrations|graph_subscriptions)/;
export const FUNCTION = (name: string) =>
  new RegExp(`^refused: function (pg_catalog\\.)?${name} is not allowed`, 'i');

/** One suite per dialect: each attack refused (or stopped) as it says, nothing changed. */
export function describeAttacks(
  name: string,
  attacks: Attack[],
  options: { otherSchema?: boolean } = {},
): void {
  for (const dialect of testDialects()) {
    describe(`${name} (${dialect})`, () => {
      let store: Store;
      let target: QueryTarget;
      let cleanup: () => Promise<void>;
      let seeded: Record<string, unknown>;
      const otherSchema = `dw_other_${randomBytes(4).toString('hex')}`;

      before(async () => {
        ({ store, cleanup } = await openTestStore(dialect));
        await seedInventory(store);
        target = queryTargetOf(store);
        seeded = await inventorySnapshot(store);
        if (dialect === 'postgres' && options.otherSchema) {
          await sql.raw(`create schema ${otherSchema}`).execute(store.db);
          await sql.raw(`create table ${otherSchema}.tenant_secrets (s text)`).execute(store.db);
          await sql
            .raw(`insert into ${otherSchema}.tenant_secrets values ('OTHER-TENANT-SECRET')`)
            .execute(store.db);
        }
      });
      after(async () => {
        if (dialect === 'postgres' && options.otherSchema)
          await sql.raw(`drop schema ${otherSchema} cascade`).execute(store.db);
        await cleanup();
      });

      const refuses = async (attack: Attack) => {
        await assert.rejects(
          runReadOnlyQuery(target, attack.sql, { limits: { timeoutMs: 1_500 } }),
          (err: unknown) => {
            assert.ok(err instanceof QueryError, String(err));
            assert.match(err.message, attack.says);
            assert.equal(err.kind, attack.kind ?? 'refused', err.message);
            for (const secret of [SEED.secret, SEED.certificate, SEED.clientState])
              assert.ok(!err.message.includes(secret), 'no secret in the message');
            return true;
          },
        );
        assert.deepEqual(
          await inventorySnapshot(store),
          seeded,
          'the inventory and the secrets are unchanged',
        );
      };

      for (const attack of attacks.filter((a) => !a.only || a.only === dialect))
        it(`refuses ${attack.what}: ${attack.sql.slice(0, 70)}`, () => refuses(attack));

      if (dialect === 'postgres' && options.otherSchema)
        it('refuses another schema of the same database', () =>
          refuses({
            what: 'another schema',
            sql: `select s from ${otherSchema}.tenant_secrets`,
            says: new RegExp(`^refused: ${otherSchema}\\.tenant_secrets is not an inventory table`),
          }));

      it('still answers what is allowed around the secrets', async () => {
        const rows = await runReadOnlyQuery(
          target,
          `select i.name, count(*) as subscriptions from integrations i
         join graph_subscriptions g on g.integration_id = i.id group by i.name`,
        );
        assert.deepEqual(rows.rows, [{ name: 'contoso', subscriptions: 1 }]);
        // A ; inside a string is text, not a second statement (the lexer reads strings as the database does).
        const texts = ["select 'it''s; delete from drive_items; --' as s"];
        if (dialect === 'postgres')
          texts.push("select E'\\'; delete from drive_items; --' as s", 'select $t$;$t$ as s');
        for (const text of texts) assert.equal((await runReadOnlyQuery(target, text)).rows.length, 1, text);
        assert.deepEqual(await inventorySnapshot(store), seeded);
      });
    });
  }
}
