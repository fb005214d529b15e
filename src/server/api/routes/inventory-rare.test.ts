import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApi, type TestApi } from '../../../../test/support/api.ts';
import { testDialects } from '../../../../test/support/store.ts';
import { dialectOf } from '../../../store/dialect.ts';

/**
 * Item lists whose filter matches items far apart in the sort order (issue 16): a store of
 * 100,000 files named so they sort before its 6,000 folders and 60 public 5 GB files. The walk of
 * the name index alone met no match within a page's time and answered an empty first page with
 * a cursor ("no results" to a person). Each of these lists must answer full pages from the first
 * one, and following nextCursor must give exactly the matching items.
 */

// biome-ignore lint/suspicious/noExplicitAny: JSON rows
type Row = any;
const INT = 'int-rare';
const FILES = 100_000;
// More folders than the gather plan takes (GATHER_MAX): folders walk their own name index.
const FOLDERS = 6_000;
const BIG = 60;
const BATCH = 500;

for (const dialect of testDialects()) {
  describe(`item lists with rare matches (${dialect})`, () => {
    let api: TestApi;

    before(async () => {
      api = await startTestApi({ dialect });
      const bool = dialectOf(dialect).encodeBoolean;
      const at = '2026-01-01T00:00:00.000Z';
      const item = (id: string, name: string, folder: boolean, size: number, exposure: string) => ({
        integration_id: INT,
        tenant_id: 't',
        drive_id: 'drive-1',
        id,
        name,
        path: `/${name}`,
        is_folder: bool(folder),
        size,
        exposure,
        first_seen: at,
        last_seen: at,
      });
      const rows = [
        ...Array.from({ length: FILES }, (_, i) => item(`f${i}`, `a file ${i}.txt`, false, 100, 'private')),
        ...Array.from({ length: FOLDERS }, (_, i) => item(`d${i}`, `z folder ${i}`, true, 0, 'private')),
        ...Array.from({ length: BIG }, (_, i) => item(`b${i}`, `z big ${i}.iso`, false, 5e9, 'public')),
      ];
      await api.app.store.db.transaction().execute(async (tx) => {
        await tx
          .insertInto('drives')
          .values({
            integration_id: INT,
            tenant_id: 't',
            id: 'drive-1',
            first_seen: at,
            last_seen: at,
          } as never)
          .execute();
        for (let i = 0; i < rows.length; i += BATCH)
          await tx
            .insertInto('drive_items')
            .values(rows.slice(i, i + BATCH) as never)
            .execute();
      });
    });
    after(async () => {
      await api?.close();
    });

    /** Every page of a list; asserts each page but the last is full. */
    async function pages(query: string, limit = 50): Promise<Row[][]> {
      const out: Row[][] = [];
      let cursor: string | null = null;
      for (let n = 0; n < 100; n++) {
        const url: string = `/api/v1/inventory/items?${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`;
        const res: { status: number; text: string; body: Row } = await api.viewer.get(url);
        assert.equal(res.status, 200, `${url}: ${res.text}`);
        out.push(res.body.items);
        cursor = res.body.nextCursor;
        if (cursor === null) return out;
        assert.equal(
          res.body.items.length,
          limit,
          `${query}: page ${n + 1} is full (only the last is short)`,
        );
      }
      throw new Error(`${query}: more than 100 pages`);
    }

    const folders = Array.from({ length: FOLDERS }, (_, i) => `d${i}`);
    const big = Array.from({ length: BIG }, (_, i) => `b${i}`);
    const cases: Array<[string, string[]]> = [
      ['folder=true', folders],
      ['folder=true&sort=-name', folders],
      ['minSize=4000000000', big],
      ['exposure=public', big],
      ['exposure=public&folder=false&sort=size', big],
    ];
    for (const [query, want] of cases) {
      test(`${query}: the first page is full, the pages hold exactly the matches`, async () => {
        const got = await pages(query, 500);
        assert.ok(got[0].length > 0, 'the first page is not empty');
        const ids = got.flat().map((r: Row) => r.id);
        assert.equal(new Set(ids).size, ids.length, 'no duplicates');
        assert.deepEqual([...ids].sort(), [...want].sort());
      });
    }

    test('folders sorted by name come in name order', async () => {
      const names = (await pages('folder=true', 500)).flat().map((r: Row) => r.name);
      const { rows } = await api.app.store.db
        .selectFrom('drive_items')
        .select('name')
        .where('is_folder', '=', dialectOf(dialect).encodeBoolean(true) as never)
        .orderBy('name')
        .orderBy('id')
        .execute()
        .then((r) => ({ rows: r }));
      assert.deepEqual(
        names,
        rows.map((r) => r.name),
      );
    });
  });
}
