import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkQueryAllowed, queryTargetOf } from '../store/sql-guard/check-query.ts';
import type { Store } from '../store/store.ts';
import { describeSource, RuleCatalogError } from './catalog.ts';
import type { RuleDefinition } from './definition.ts';
import { defaultParams } from './definition.ts';
import { loadRuleFolder, parseRule } from './loader.ts';
import { openReadSession } from './read-session.ts';
import { type RuleRunResult, runRuleOnSession } from './rule-runner.ts';
import { compileRule, type RuleRow, RuleRunError } from './run-rule.ts';

/**
 * Custom rules saved in the store (`drivewarden rules add <folder>`): the folder's rule.yaml
 * and rule.sql, validated before anything is stored — the files (loader), the SQL through the
 * query console's guard (store/sql-guard: one SELECT over inventory tables, no secret column,
 * allowed functions only), then the SQL on the current inventory of every integration (or
 * with no integration at all), every row checked (checkRuleRow and the key conventions).
 * `rules test <folder>` runs the same check without saving.
 */

export interface RuleCheck {
  integrationId: string | null;
  ok: number;
  alarm: number;
  error: number;
  /** The first alarm and error rows, for display. */
  samples: RuleRow[];
}

/** Runs the rule read-only on each integration's inventory; throws RuleRunError naming the first bad row. */
export async function checkRuleOnInventory(
  store: Store,
  rule: RuleDefinition,
  integrationIds: readonly string[],
  now = new Date().toISOString(),
): Promise<RuleCheck[]> {
  // The guard: what people write runs only if the console would run it.
  const sample = compileRule(rule, store, {
    integrationId: integrationIds[0] ?? '',
    params: defaultParams(rule),
    now,
  });
  try {
    await checkQueryAllowed(queryTargetOf(store), sample.text, sample.values);
  } catch (err) {
    throw new RuleRunError(rule.id, (err as Error).message);
  }
  const session = await openReadSession(store);
  try {
    const out: RuleCheck[] = [];
    for (const integrationId of integrationIds.length ? integrationIds : [null]) {
      const samples: RuleRow[] = [];
      const run: RuleRunResult = await runRuleOnSession(session, rule, {
        integrationId: integrationId ?? '',
        params: defaultParams(rule),
        now,
        onRow: (row) => {
          if (row.status !== 'ok' && samples.length < 5) samples.push(row);
        },
      });
      out.push({ integrationId, ok: run.ok, alarm: run.alarm, error: run.error, samples });
    }
    return out;
  } finally {
    await session.close();
  }
}

export interface SaveOptions {
  actor: string | null;
  /** The built-in and folder rules (catalog.ts loadFileRules): a saved rule never shadows one. */
  fileRules: readonly RuleDefinition[];
  /** Replace a saved rule of the same id. */
  replace?: boolean;
}

/** Validates and saves the rule in `folder` (its id must be the folder's name); returns it with the check per integration. */
export async function saveCustomRule(
  store: Store,
  folder: string,
  opts: SaveOptions,
): Promise<{ rule: RuleDefinition; checks: RuleCheck[]; replaced: boolean }> {
  loadRuleFolder(folder, 'saved');
  return saveCustomRuleTexts(
    store,
    {
      yaml: readFileSync(join(folder, 'rule.yaml'), 'utf8'),
      sql: readFileSync(join(folder, 'rule.sql'), 'utf8'),
    },
    opts,
  );
}

/**
 * Validates and saves a rule given as its two texts (the API's custom-rule editor): the same
 * checks as a folder — the files, no clash with a built-in or folder rule, the guard, a dry run
 * on every integration's inventory — before anything is stored.
 */
export async function saveCustomRuleTexts(
  store: Store,
  texts: { yaml: string; sql: string },
  opts: SaveOptions,
): Promise<{ rule: RuleDefinition; checks: RuleCheck[]; replaced: boolean }> {
  const rule = parseRule(texts.yaml, texts.sql, 'saved', 'custom rule', {
    yaml: 'rule.yaml',
    sql: 'rule.sql',
  });
  const clash = opts.fileRules.find((r) => r.id === rule.id);
  if (clash)
    throw new RuleCatalogError(`rule id ${rule.id} is already ${describeSource(clash)}: choose another id`);
  const existing = await store.db
    .selectFrom('custom_rules')
    .select('id')
    .where('id', '=', rule.id)
    .executeTakeFirst();
  if (existing && !opts.replace)
    throw new RuleCatalogError(`a custom rule ${rule.id} is already saved: --replace replaces it`);
  const integrations = (await store.db.selectFrom('integrations').select('id').orderBy('name').execute()).map(
    (r) => r.id,
  );
  const checks = await checkRuleOnInventory(store, rule, integrations);
  const now = new Date().toISOString();
  const row = { yaml: texts.yaml, sql: texts.sql, updated_at: now };
  await store.db
    .insertInto('custom_rules')
    .values({ id: rule.id, ...row, created_at: now, created_by: opts.actor })
    .onConflict((oc) => oc.column('id').doUpdateSet(row))
    .execute();
  return { rule: { ...rule, source: `custom_rules:${rule.id}` }, checks, replaced: existing !== undefined };
}

/** Removes a saved rule (its findings stay, as history). */
export async function removeCustomRule(
  store: Store,
  id: string,
  fileRules: readonly RuleDefinition[],
): Promise<void> {
  const result = await store.db.deleteFrom('custom_rules').where('id', '=', id).executeTakeFirst();
  if (Number(result.numDeletedRows) > 0) return;
  const file = fileRules.find((r) => r.id === id);
  if (file)
    throw new RuleCatalogError(
      `rule ${id} is ${describeSource(file)}, not a saved one: disable it per integration (\`drivewarden rules disable ${id} --integration N\`)`,
    );
  throw new RuleCatalogError(`no saved rule ${id}`);
}
