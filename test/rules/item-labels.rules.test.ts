/**
 * item_labeled_file_not_exposed on seeded files, labels, catalogue and extraction records, on
 * every dialect. Exposure is seeded as the store derives it (the collection test in
 * src/collect/labels.test.ts shows a file inside an Anyone-shared folder alarming end to end).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { drive } from '../../src/resources/drive.ts';
import { driveItem } from '../../src/resources/drive-item.ts';
import { itemLabel } from '../../src/resources/item-label.ts';
import { sensitivityLabel } from '../../src/resources/sensitivity-label.ts';
import type { ResourceDef, ResourceRow, RowContext } from '../../src/resources/types.ts';
import { defaultParams, type RuleParams } from '../../src/rules/definition.ts';
import { BUILTIN_RULES_DIR, loadRuleFolder } from '../../src/rules/loader.ts';
import { runRule } from '../../src/rules/run-rule.ts';
import { type ApplyContext, upsertRows } from '../../src/store/apply.ts';
import type { Store } from '../../src/store/store.ts';
import { openTestStore, testDialects } from '../support/store.ts';

const NOW = '2026-03-01T00:00:00.000Z';
const INT = 'int-labels';
const rule = loadRuleFolder(join(BUILTIN_RULES_DIR, 'item_labeled_file_not_exposed'), 'builtin');

const LABELS = {
  public: 'l-public',
  general: 'l-general',
  confidential: 'l-conf',
  highly: 'l-highly',
  finance: 'l-finance',
  foreign: 'l-foreign', // carried by a file, unknown to the catalogue
};

/** [item id, exposure, labels, extraction outcome, deleted] */
type Seed = [string, string | null, string[], string | null, boolean?];
const FILES: Seed[] = [
  ['public-confidential', 'public', [LABELS.confidential], 'labeled'],
  ['external-finance', 'external', [LABELS.finance], 'labeled'],
  ['internal-confidential', 'internal', [LABELS.confidential], 'labeled'],
  ['private-highly', 'private', [LABELS.finance, LABELS.general], 'labeled'],
  ['public-general', 'public', [LABELS.general], 'labeled'],
  ['public-unlabelled', 'public', [], 'unlabeled'],
  ['public-foreign', 'public', [LABELS.foreign], 'labeled'],
  ['private-foreign', 'private', [LABELS.foreign], 'labeled'],
  ['public-locked', 'public', [], 'locked'],
  ['private-locked', 'private', [], 'locked'],
  ['pending-confidential', null, [LABELS.confidential], 'labeled'],
  ['deleted-confidential', 'public', [LABELS.confidential], 'labeled', true],
];

function ctxOf(store: Store, db: ApplyContext['db']): ApplyContext {
  return { db, dialect: store.dialect, integrationId: INT, tenantId: 't1', source: 'full', now: NOW };
}
const rowCtx = (scope?: Record<string, string>): RowContext => ({
  integrationId: INT,
  tenantId: 't1',
  verifiedDomains: ['contoso.example'],
  scope,
});
const def = (d: unknown) => d as ResourceDef<unknown>;

async function seed(store: Store): Promise<void> {
  await store.db.transaction().execute(async (trx) => {
    const actx = ctxOf(store, trx);
    await upsertRows(actx, def(drive), [
      drive.toRow(
        drive.schema.parse({ id: 'd1', owner: { user: { id: 'u1', email: 'Alice@Contoso.example' } } }),
        rowCtx(),
      ),
    ]);
    const catalogue = [
      { id: LABELS.public, name: 'Public' },
      { id: LABELS.general, name: 'General' },
      { id: LABELS.confidential, name: 'CONFIDENTIAL' }, // case differs from the parameter
      { id: LABELS.highly, name: 'Highly Confidential', isAppliable: false },
      { id: LABELS.finance, name: 'Finance', parent: { id: LABELS.highly } },
    ];
    await upsertRows(
      actx,
      def(sensitivityLabel),
      catalogue.map((l) => sensitivityLabel.toRow(sensitivityLabel.schema.parse(l), rowCtx())),
    );
    const names = new Map(catalogue.map((l) => [l.id, l.name]));
    const items: ResourceRow[] = [];
    const labels: ResourceRow[] = [];
    for (const [id, , carried] of FILES) {
      items.push(
        driveItem.toRow(
          driveItem.schema.parse({ id, name: `${id}.docx`, file: {}, parentReference: { id: 'root' } }),
          rowCtx({ drive_id: 'd1' }),
        ),
      );
      for (const labelId of carried) {
        const row: ResourceRow = itemLabel.toRow(
          itemLabel.schema.parse({
            sensitivityLabelId: labelId,
            assignmentMethod: 'standard',
            tenantId: 't1',
          }),
          rowCtx({ drive_id: 'd1', item_id: id }),
        );
        row.label_name = names.get(labelId) ?? null;
        labels.push(row);
      }
    }
    await upsertRows(actx, def(driveItem), items);
    await upsertRows(actx, def(itemLabel), labels);
    for (const [id, exposure, , outcome, deleted] of FILES) {
      await trx
        .updateTable('drive_items')
        .set({
          exposure,
          access_root_id: exposure === 'public' || exposure === 'external' ? 'share-root' : null,
          path: `/Documents/${id}.docx`,
          deleted_at: deleted ? NOW : null,
        })
        .where('integration_id', '=', INT)
        .where('id', '=', id)
        .execute();
      if (outcome)
        await trx
          .insertInto('label_extractions')
          .values({
            integration_id: INT,
            drive_id: 'd1',
            item_id: id,
            c_tag: 'qxh:abc',
            extracted_at: NOW,
            outcome: outcome as 'labeled',
            error_code: outcome === 'locked' ? 'fileDoubleKeyEncrypted' : null,
            error_message: null,
          })
          .execute();
    }
  });
}

async function statuses(store: Store, params: RuleParams = defaultParams(rule)) {
  const rows = await runRule(store, rule, { integrationId: INT, params, now: NOW });
  return { rows, byId: Object.fromEntries(rows.map((r) => [r.resource_id, r.status])) };
}

for (const dialect of testDialects()) {
  describe(`item_labeled_file_not_exposed (${dialect})`, () => {
    it('alarms for restricted files shared outside, ok inside, errors where labels cannot be judged', async () => {
      const { store, cleanup } = await openTestStore(dialect);
      try {
        await seed(store);
        const { rows, byId } = await statuses(store);
        assert.deepEqual(byId, {
          'public-confidential': 'alarm',
          'external-finance': 'alarm', // a sublabel of Highly Confidential
          'internal-confidential': 'ok',
          'private-highly': 'ok',
          'public-foreign': 'error', // the catalogue has no name for its label
          'public-locked': 'error', // its labels could not be read
          'pending-confidential': 'error', // its exposure is not known yet
        });
        const alarm = rows.find((r) => r.resource_id === 'public-confidential');
        assert.equal(alarm?.drive_id, 'd1');
        assert.equal(alarm?.resource_path, '/Documents/public-confidential.docx');
        assert.equal(alarm?.resource_owner, 'alice@contoso.example');
        assert.match(alarm?.reason ?? '', /CONFIDENTIAL and reachable by anyone/);
        assert.equal(alarm?.details.label_name, 'CONFIDENTIAL');
        assert.match(
          rows.find((r) => r.resource_id === 'external-finance')?.reason ?? '',
          /outside the organization/,
        );
        assert.match(rows.find((r) => r.resource_id === 'public-foreign')?.reason ?? '', /l-foreign/);
        assert.match(
          rows.find((r) => r.resource_id === 'public-locked')?.reason ?? '',
          /fileDoubleKeyEncrypted/,
        );
      } finally {
        await cleanup();
      }
    });

    it('takes its label list from the parameter, ignoring case', async () => {
      const { store, cleanup } = await openTestStore(dialect);
      try {
        await seed(store);
        const general = await statuses(store, { restricted_labels: ['general'] });
        assert.equal(general.byId['public-general'], 'alarm');
        assert.equal(general.byId['private-highly'], 'ok', 'it carries General too');
        assert.equal(general.byId['public-confidential'], undefined);
        const none = await statuses(store, { restricted_labels: [] });
        assert.deepEqual(none.byId, { 'public-foreign': 'error', 'public-locked': 'error' });
      } finally {
        await cleanup();
      }
    });
  });
}
