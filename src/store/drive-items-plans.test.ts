import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type CompiledQuery, type Kysely, sql } from 'kysely';
import { queryPlan } from '../../test/support/query-plan.ts';
import { openTestStore, type TestStore, testDialects } from '../../test/support/store.ts';
import type { AuditEventRow } from '../collect/activity/record.ts';
import { resolveInventory } from '../collect/activity/resolve.ts';
import { driveItem, type GraphDriveItem } from '../resources/drive-item.ts';
import type { ResourceRow } from '../resources/types.ts';
import { openReadSession } from '../rules/read-session.ts';
import { buildScope, scopeTablesSql } from '../rules/scope.ts';
import { itemDetail } from '../server/api/routes/inventory/item-detail.ts';
import { integrationHealth } from './integration-health.ts';
import { applyItemsPage } from './items.ts';
import type { Database } from './schema.ts';

/**
 * The write path's statements over drive_items keep an index after migration 0920 dropped
 * drive_items_path and drive_items_live: every statement a page runs (upserts, a folder's
 * rename with its subtree's paths and URLs, a child before its parent, a folder's removal) is
 * captured as sent and explained. SQLite: no statement scans drive_items, and the path ranges
 * and the pending-path probe search drive_items_api_path. PostgreSQL (sequential scans
 * disabled, so the plan shows whether an index can serve): the path statements use
 * drive_items_api_path. The live count per integration is index-only (SQLite: drive_items_live, 0970),
 * and the lookups of items by id alone (the item page, audit events' ListItemUniqueId) search
 * drive_items_by_id (0940).
 */

const INTEGRATION = 'int-plans';
const TENANT = 'tenant-plans';
const DRIVE = 'drive-plans';
const BASE_URL = 'https://contoso-my.sharepoint.test/personal/ann/Documents';

interface Node {
  id: string;
  parent: string | null;
  name: string;
  folder: boolean;
  url: string;
}

function row(n: Node): ResourceRow {
  const g: GraphDriveItem = {
    id: n.id,
    name: n.name,
    webUrl: n.url,
    ...(n.parent ? { parentReference: { id: n.parent, driveId: DRIVE } } : { root: {} }),
    ...(n.folder ? { folder: { childCount: 0 } } : { file: { mimeType: 'text/plain' } }),
  };
  return driveItem.toRow(g, {
    integrationId: INTEGRATION,
    tenantId: TENANT,
    verifiedDomains: [],
    scope: { drive_id: DRIVE },
  });
}

/** A transaction whose raw statements (the write path's `run`) are recorded as sent. */
function recording(trx: Kysely<Database>, into: CompiledQuery[]): Kysely<Database> {
  return new Proxy(trx, {
    get(target, key, receiver) {
      if (key === 'executeQuery')
        return (q: CompiledQuery) => {
          into.push(q);
          return target.executeQuery(q);
        };
      const v = Reflect.get(target, key, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

/** The store as a reader: every query it runs (builder or raw) is recorded as compiled. */
function capturing(db: Kysely<Database>, into: CompiledQuery[]): Kysely<Database> {
  const executor = db.getExecutor();
  return db.withPlugin({
    transformQuery: (args) => {
      into.push(executor.compileQuery(args.node, args.queryId));
      return args.node;
    },
    transformResult: async (args) => args.result,
  });
}

/** Statements that look drive items up by id without naming the drive. */
const BY_ID_ALONE = (q: CompiledQuery) =>
  /from "drive_items"/.test(q.sql) && /"id" (=|in)/.test(q.sql) && !/"drive_id" (=|in)/.test(q.sql);

let clock = Date.parse('2025-05-01T00:00:00.000Z');

async function applyPage(
  t: TestStore,
  entries: Array<{ id: string; row?: ResourceRow }>,
  into: CompiledQuery[],
): Promise<void> {
  clock += 1000;
  await t.db.transaction().execute((trx) =>
    applyItemsPage(
      {
        db: recording(trx, into),
        dialect: t.store.dialect,
        integrationId: INTEGRATION,
        tenantId: TENANT,
        source: 'delta',
        now: new Date(clock).toISOString(),
        verifiedDomains: [],
      },
      { driveId: DRIVE, entries },
    ),
  );
}

/** The statements a drive's life runs: enumeration, a child before its parent, a rename, a removal. */
async function driveStatements(t: TestStore): Promise<CompiledQuery[]> {
  const statements: CompiledQuery[] = [];
  const nodes: Node[] = [{ id: 'root', parent: null, name: 'root', folder: true, url: BASE_URL }];
  for (const f of ['A', 'B'])
    nodes.push({ id: f, parent: 'root', name: f, folder: true, url: `${BASE_URL}/${f}` });
  for (let i = 0; i < 40; i++) {
    const parent = i % 2 === 0 ? 'A' : 'B';
    nodes.push({
      id: `f${i}`,
      parent,
      name: `f${i}.txt`,
      folder: false,
      url: `${BASE_URL}/${parent}/f${i}.txt`,
    });
  }
  await applyPage(
    t,
    nodes.map((n) => ({ id: n.id, row: row(n) })),
    statements,
  );
  // A child arrives before its parent: its path waits (the pending-path probe and update).
  const sub: Node = { id: 'S', parent: 'A', name: 'S', folder: true, url: `${BASE_URL}/A/S` };
  const late: Node = {
    id: 'late',
    parent: 'S',
    name: 'late.txt',
    folder: false,
    url: `${BASE_URL}/A/S/late.txt`,
  };
  await applyPage(t, [{ id: late.id, row: row(late) }], statements);
  await applyPage(t, [{ id: sub.id, row: row(sub) }], statements);
  // A renamed: its subtree's paths and URLs are rewritten (path ranges).
  await applyPage(
    t,
    [{ id: 'A', row: row({ id: 'A', parent: 'root', name: 'A2', folder: true, url: `${BASE_URL}/A2` }) }],
    statements,
  );
  // B removed: its subtree by parent.
  await applyPage(t, [{ id: 'B' }], statements);
  const paths = await t.db
    .selectFrom('drive_items')
    .select(['id', 'path', 'web_url'])
    .where('id', 'in', ['late', 'f0'])
    .orderBy('id')
    .execute();
  assert.deepEqual(
    paths.map((p) => [p.id, p.path, p.web_url]),
    [
      ['f0', '/A2/f0.txt', `${BASE_URL}/A2/f0.txt`],
      ['late', '/A2/S/late.txt', `${BASE_URL}/A2/S/late.txt`],
    ],
    'the statements explained did their work',
  );
  return statements.filter((q) => /\bdrive_items\b/.test(q.sql));
}

/** Statements that select live items by path (as written now, or as before 0920). */
const PATH_STATEMENT = /\bpath (>=|<|is null)|coalesce\(path, ''\) (>=|<|=)/;

for (const dialect of testDialects()) {
  describe(`drive_items statements keep their indexes (${dialect})`, () => {
    let t: TestStore;
    let statements: CompiledQuery[];
    before(async () => {
      t = await openTestStore(dialect);
      statements = await driveStatements(t);
    });
    after(() => t.cleanup());

    const plan = (q: CompiledQuery) => queryPlan(t.db, dialect, q);

    test('the path statements (subtree rewrites, pending paths) search drive_items_api_path', async () => {
      const pathStatements = statements.filter((q) => PATH_STATEMENT.test(q.sql));
      // Pending probe + update, path rewrite, URL rewrite: at least one of each shape.
      assert.ok(pathStatements.length >= 4, pathStatements.map((q) => q.sql).join('\n\n'));
      for (const q of pathStatements) {
        const p = await plan(q);
        assert.match(p, /drive_items_api_path/, `${q.sql}\n---\n${p}`);
      }
    });

    if (dialect === 'sqlite')
      test('no statement of the write path scans drive_items', async () => {
        assert.ok(statements.length > 10);
        for (const q of statements) {
          const p = await plan(q);
          // A full scan reads "SCAN drive_items" (or its alias) without a SEARCH; a covering
          // index scan is a full scan too.
          assert.doesNotMatch(p, /^SCAN (drive_items|c|p)\b/m, `${q.sql}\n---\n${p}`);
        }
      });

    test("the rules' subtree scope searches drive_items_api_path for each changed folder's descendants", async () => {
      const { rows } = await sql<{ id: number | string }>`select max(id) as id from changes`.execute(t.db);
      const session = await openReadSession(t.store, scopeTablesSql(dialect));
      const sent: Array<{ text: string; values: readonly unknown[] }> = [];
      const exec = session.exec.bind(session);
      session.exec = (text, values = []) => {
        sent.push({ text, values });
        return exec(text, values);
      };
      try {
        await buildScope(session, INTEGRATION, 0, Number(rows[0].id));
        const subtree = sent.find((s) => /cross join drive_items x/.test(s.text));
        assert.ok(subtree, sent.map((s) => s.text).join('\n\n'));
        const select = subtree.text
          .slice(subtree.text.indexOf('select x.drive_id'))
          .replace(/ on conflict do nothing$/, '');
        // PostgreSQL: sequential scans off, so the plan shows whether an index can serve.
        if (dialect === 'postgres') await session.exec('set local enable_seqscan = off');
        const explain = dialect === 'sqlite' ? 'explain query plan' : 'explain';
        const explained = await session.all(`${explain} ${select}`, subtree.values);
        const p = explained.map((r) => String(r.detail ?? r['QUERY PLAN'])).join('\n');
        if (dialect === 'sqlite') assert.match(p, /SEARCH x USING INDEX drive_items_api_path/, p);
        else assert.match(p, /Index \w*\s*Scan using drive_items_api_path on drive_items x/, p);
      } finally {
        await session.close();
      }
    });

    test('lookups of items by id alone (item page, audit events) search drive_items_by_id', async () => {
      const sent: CompiledQuery[] = [];
      const reader = capturing(t.db, sent);
      const detail = await itemDetail(reader, [], INTEGRATION, 'f0');
      assert.equal(detail.item.path, '/A2/f0.txt');
      const event = { id: 'e1', list_item_id: 'late', object_url: null, site_url: null } as AuditEventRow;
      await resolveInventory(reader, INTEGRATION, [event]);
      assert.equal(event.item_id, 'late', 'the event resolved by its ListItemUniqueId');
      const lookups = sent.filter(BY_ID_ALONE);
      assert.equal(lookups.length, 2, sent.map((q) => q.sql).join('\n\n'));
      for (const q of lookups) {
        const p = await plan(q);
        // Not the integration's items read one by one (before 0940: SEARCH … (integration_id=?)).
        if (dialect === 'sqlite')
          assert.match(
            p,
            /^SEARCH drive_items USING INDEX drive_items_by_id \(id=\? AND integration_id=\?\)/m,
            `${q.sql}\n---\n${p}`,
          );
        else assert.match(p, /Index Scan (using|on) drive_items_by_id/, `${q.sql}\n---\n${p}`);
      }
    });

    test('the live item count per integration reads an index, not the table', async () => {
      const health = await integrationHealth(t.db, { id: INTEGRATION, enabled: true });
      assert.ok(health.items > 0);
      const q = t.db
        .selectFrom('drive_items')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('integration_id', '=', INTEGRATION)
        .where('deleted_at', 'is', null)
        .compile();
      const p = await plan(q);
      // SQLite reads drive_items_live's range of the integration (0970 brought it back).
      if (dialect === 'sqlite')
        assert.match(
          p,
          /^SEARCH drive_items USING (COVERING )?INDEX drive_items_live \(integration_id=\?\)$/,
          p,
        );
      else assert.match(p, /Index Only Scan using drive_items_api_\w+/, p);
    });
  });
}
