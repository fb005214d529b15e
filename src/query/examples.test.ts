import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openTestStore, testDialects } from '../../test/support/store.ts';
import type { Store } from '../store/store.ts';
import { EXAMPLE_QUERIES, exampleDefaults, exampleQuery } from './examples.ts';
import { queryTargetOf, runReadOnlyQuery } from './run-query.ts';
import { SEED, seedInventory } from './seed-inventory.fixture.ts';

/**
 * Every built-in example runs on both dialects and returns exactly the rows the seeded
 * inventory implies (seed-inventory.fixture.ts says who shares what with whom).
 */

const DAY = 86_400_000;
const daysSince = (iso: string) => Math.floor((Date.parse(SEED.now) - Date.parse(iso)) / DAY);

/** Values the dialects return differently, made comparable: timestamps as epoch ms. */
function normal(rows: Array<Record<string, unknown>>): Array<Record<string, unknown>> {
  return rows.map((row) =>
    Object.fromEntries(
      Object.entries(row).map(([k, v]) => [
        k,
        typeof v === 'string' && /^\d{4}-\d\d-\d\dT/.test(v) ? Date.parse(v) : v,
      ]),
    ),
  );
}

const EXPECTED: Record<string, Array<Record<string, unknown>>> = {
  'shared-with-anyone': [
    {
      owner: 'alice@contoso.test',
      path: '/Plans',
      kind: 'folder',
      link_type: 'view',
      expiration: null,
      items_reachable: 2,
    },
    {
      owner: 'bob@contoso.test',
      path: '/Old.docx',
      kind: 'file',
      link_type: 'edit',
      expiration: null,
      items_reachable: 1,
    },
  ],
  'shared-outside': [
    {
      owner: 'alice@contoso.test',
      path: '/Budget.xlsx',
      audience: 'external',
      recipient: 'ext@gmail.com',
      recipient_name: 'Ext',
      access: 'view',
    },
    {
      owner: 'alice@contoso.test',
      path: '/Budget.xlsx',
      audience: 'guest',
      recipient: 'gina@fabrikam.test',
      recipient_name: 'Gina',
      access: 'view',
    },
  ],
  'who-shares-most': [
    { owner: 'bob@contoso.test', shared_items: 3, with_anyone: 1, with_outsiders: 0, within_organisation: 2 },
    {
      owner: 'alice@contoso.test',
      shared_items: 2,
      with_anyone: 1,
      with_outsiders: 1,
      within_organisation: 0,
    },
  ],
  'biggest-drives': [
    {
      owner: 'alice@contoso.test',
      owner_name: 'Alice',
      used_bytes: 900,
      total_bytes: 1000,
      percent_used: 90,
      quota_state: 'normal',
    },
    {
      owner: 'bob@contoso.test',
      owner_name: 'Bob',
      used_bytes: 500,
      total_bytes: 1000,
      percent_used: 50,
      quota_state: 'normal',
    },
    {
      owner: 'carol@contoso.test',
      owner_name: 'Carol',
      used_bytes: 10,
      total_bytes: 1000,
      percent_used: 1,
      quota_state: 'normal',
    },
  ],
  'stale-external-shares': [
    {
      owner: 'bob@contoso.test',
      path: '/Old.docx',
      exposure: 'public',
      modified_at: Date.parse('2023-06-01T00:00:00.000Z'),
      days_unmodified: daysSince('2023-06-01T00:00:00.000Z'),
    },
    {
      owner: 'alice@contoso.test',
      path: '/Plans/q1.docx',
      exposure: 'public',
      modified_at: Date.parse('2024-01-01T00:00:00.000Z'),
      days_unmodified: daysSince('2024-01-01T00:00:00.000Z'),
    },
  ],
  'guests-with-access': [
    {
      guest: 'gina@fabrikam.test',
      guest_name: 'Gina',
      owner: 'alice@contoso.test',
      path: '/Budget.xlsx',
      via: 'direct',
      access: 'view',
    },
    {
      guest: 'hal@partner.test',
      guest_name: 'Hal',
      owner: 'bob@contoso.test',
      path: '/Deck.pptx',
      via: 'group Sales',
      access: 'edit',
    },
  ],
  'person-reach': [
    { owner: 'alice@contoso.test', path: '/', via: 'owner', access: 'owner', items_reachable: 5 },
    { owner: 'bob@contoso.test', path: '/Team', via: 'direct', access: 'view', items_reachable: 2 },
  ],
};

for (const dialect of testDialects()) {
  describe(`example queries (${dialect})`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    before(async () => {
      ({ store, cleanup } = await openTestStore(dialect));
      await seedInventory(store);
    });
    after(() => cleanup());

    const run = (name: string, params: Record<string, string | number> = {}) => {
      const example = exampleQuery(name)!;
      return runReadOnlyQuery(queryTargetOf(store), example.sql, {
        params: { ...exampleDefaults(example), now: SEED.now, ...params },
      });
    };

    it('every example has an expectation', () => {
      assert.deepEqual(EXAMPLE_QUERIES.map((e) => e.name).sort(), Object.keys(EXPECTED).sort());
    });

    for (const example of EXAMPLE_QUERIES) {
      it(`${example.name} returns the rows the inventory implies`, async () => {
        const params: Record<string, string> =
          example.name === 'person-reach' ? { person: 'Alice@Contoso.test' } : {};
        const result = await run(example.name, params);
        assert.deepEqual(normal(result.rows), EXPECTED[example.name]);
        assert.equal(result.truncated, false);
      });
    }

    it('person-reach finds a guest through a group, and a stale share only past its days', async () => {
      const hal = await run('person-reach', { person: 'hal@partner.test' });
      assert.deepEqual(normal(hal.rows), [
        {
          owner: 'bob@contoso.test',
          path: '/Deck.pptx',
          via: 'group Sales',
          access: 'edit',
          items_reachable: 1,
        },
      ]);
      const recent = await run('stale-external-shares', { days: 60 });
      assert.deepEqual(
        recent.rows.map((r) => r.path),
        ['/Old.docx', '/Plans/q1.docx', '/Budget.xlsx'],
      );
    });

    it('person-reach says which parameter is missing', async () => {
      await assert.rejects(
        runReadOnlyQuery(queryTargetOf(store), exampleQuery('person-reach')!.sql),
        /the query needs :person: give --param person=…/,
      );
    });
  });
}
