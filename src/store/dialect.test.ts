import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import { openTestStore, TEST_PG_URL, testDialects } from '../../test/support/store.ts';
import { runReadOnlyQuery } from '../query/run-query.ts';
import { encodeValue } from './codec.ts';
import { dialectOf, SQL_HELPERS } from './dialect.ts';

const DOC = { a: { b: 'x', n: 2, f: 1.5, t: true, arr: [1, 'two'], o: { k: 'v' } }, z: null };

/** [expression, parameters, expected]: the same result on every dialect. */
const CASES: Array<[string, unknown[], unknown]> = [
  ['dw_json_text(?, ?)', [JSON.stringify(DOC), 'a.b'], 'x'],
  ['dw_json_text(?, ?)', [JSON.stringify(DOC), 'a.n'], '2'],
  ['dw_json_text(?, ?)', [JSON.stringify(DOC), 'a.f'], '1.5'],
  ['dw_json_text(?, ?)', [JSON.stringify(DOC), 'a.t'], 'true'],
  ['dw_json_text(?, ?)', [JSON.stringify(DOC), 'a.arr.1'], 'two'],
  ['dw_json_text(?, ?)', [JSON.stringify(DOC), 'z'], null],
  ['dw_json_text(?, ?)', [JSON.stringify(DOC), 'missing'], null],
  ['dw_json_text(?, ?)', [JSON.stringify(DOC), 'a.b.c'], null],
  ['dw_days_between(?, ?)', ['2026-01-01T00:00:00.000Z', '2026-01-11T12:00:00.000Z'], 10.5],
  ['dw_days_between(?, ?)', ['2026-01-11T12:00:00.000Z', '2026-01-01T00:00:00.000Z'], -10.5],
  ['dw_days_between(?, ?)', [null, '2026-01-01T00:00:00.000Z'], null],
  ['dw_email_domain(?)', ['Alice@Contoso.COM'], 'contoso.com'],
  ['dw_email_domain(?)', ['odd@name@Sub.Example.org'], 'sub.example.org'],
  ['dw_email_domain(?)', ['no-at-sign'], null],
  ['dw_email_domain(?)', ['trailing@'], null],
  ['dw_email_domain(?)', [null], null],
  ['dw_json_has(?, ?)', ['["read","write"]', 'write'], 1],
  ['dw_json_has(?, ?)', ['["read"]', 'write'], 0],
  ['dw_json_has(?, ?)', ['{"write":1}', 'write'], 0],
  ['dw_json_has(?, ?)', [null, 'write'], 0],
  ['dw_in_nocase(?, ?, ?)', ['confidential', 'Public', 'CONFIDENTIAL'], 1],
  ['dw_in_nocase(?, ?, ?)', ['Highly Confidential', 'Confidential', 'highly confidential'], 1],
  ['dw_in_nocase(?, ?, ?)', ['Secret', 'Public', 'Confidential'], 0],
  ['dw_in_nocase(?, ?)', [null, 'Confidential'], 0],
  // An empty string_list parameter compiles to NULL.
  ['dw_in_nocase(?, NULL)', ['Confidential'], 0],
];

const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe('the dialect object', () => {
  it('numbers placeholders on PostgreSQL only', () => {
    assert.equal(dialectOf('sqlite').placeholders(3, 3), '?, ?, ?');
    assert.equal(dialectOf('postgres').placeholders(3, 3), '$3, $4, $5');
    assert.equal(dialectOf('postgres').placeholder(7), '$7');
    assert.equal(dialectOf('sqlite').encodeBoolean(true), 1);
    assert.equal(dialectOf('postgres').encodeBoolean(0), false);
  });
});

for (const dialect of testDialects()) {
  describe(`SQL helpers (${dialect})`, () => {
    it('give the same results as on every other dialect', async () => {
      const { store, cleanup } = await openTestStore(dialect);
      try {
        for (const [expression, params, expected] of CASES) {
          const parts = expression.split('?');
          const query = sql<{ v: unknown }>`select ${sql.join(
            parts.map((text, i) => (i === 0 ? sql.raw(text) : sql`${params[i - 1]}${sql.raw(text)}`)),
            sql.raw(''),
          )} as v`;
          const { rows } = await query.execute(store.db);
          assert.deepEqual(rows[0].v, expected, `${expression} with ${JSON.stringify(params)}`);
        }
      } finally {
        await cleanup();
      }
    });

    it('read typed columns: JSON, timestamps, now', async () => {
      const { store, cleanup } = await openTestStore(dialect);
      try {
        const enc = (kind: 'json' | 'boolean', v: unknown) => encodeValue(kind, v, dialect) as never;
        await store.db
          .insertInto('integrations')
          .values({
            id: 'i1',
            name: 'someone@Fabrikam.example',
            tenant_id: 't1',
            client_id: 'c1',
            verified_domains: enc('json', ['contoso.example']),
            enabled: enc('boolean', true),
            created_at: '2026-01-01T00:00:00.000Z',
            updated_at: '2026-01-03T06:00:00.000Z',
            probe: enc('json', DOC),
          } as never)
          .execute();
        const before = Date.now();
        const { rows } = await sql<{
          field: string;
          days: number;
          domain: string;
          now: string;
          age: number;
        }>`select dw_json_text(probe, 'a.o.k') as field, dw_days_between(created_at, updated_at) as days,
                  dw_email_domain(name) as domain, dw_now() as now, dw_days_between(created_at, dw_now()) as age
           from integrations`.execute(store.db);
        const [row] = rows;
        assert.equal(row.field, 'v');
        assert.equal(row.days, 2.25);
        assert.equal(row.domain, 'fabrikam.example');
        assert.match(row.now, ISO_MS);
        assert.ok(Math.abs(Date.parse(row.now) - before) < 60_000, row.now);
        assert.ok(row.age > 300, String(row.age));
      } finally {
        await cleanup();
      }
    });

    it('are there in read-only queries too', async () => {
      const { store, cleanup } = await openTestStore(dialect);
      try {
        const target =
          dialect === 'sqlite'
            ? { sqliteFile: store.file }
            : { databaseUrl: TEST_PG_URL, schema: store.schema };
        const result = await runReadOnlyQuery(
          target,
          `select ${SQL_HELPERS.length} as n, dw_email_domain('a@B.example') as domain,
                  dw_json_text('{"k": [true]}', 'k.0') as flag, dw_days_between('2026-01-01', '2026-01-02') as days`,
        );
        assert.deepEqual(result.rows, [{ n: 6, domain: 'b.example', flag: 'true', days: 1 }]);
      } finally {
        await cleanup();
      }
    });
  });
}
