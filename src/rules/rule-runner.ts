import type { RuleDefinition, RuleParams } from './definition.ts';
import { type FindingInput, findingFromRow } from './findings.ts';
import type { ReadSession } from './read-session.ts';
import { checkRuleRow, compileRule, RuleRunError } from './run-rule.ts';
import { type Scope, scopedRuleSql } from './scope.ts';

/**
 * One rule over the read-only session: its rows streamed, ok rows counted, alarm and error
 * rows checked (checkRuleRow and the key conventions) and kept as finding inputs by key.
 */

export interface RuleRunResult {
  results: Map<string, FindingInput>;
  ok: number;
  alarm: number;
  error: number;
}

export interface RuleRunOptions {
  integrationId: string;
  params: RuleParams;
  now: string;
  /** Only the resources in the session's scope (scope.ts). */
  scope?: Scope;
  /** Called with every checked row (ok ones too): `rules add` validates every row this way. */
  onRow?: (row: ReturnType<typeof checkRuleRow>) => void;
}

export async function runRuleOnSession(
  session: ReadSession,
  rule: RuleDefinition,
  opts: RuleRunOptions,
): Promise<RuleRunResult> {
  const compiled = compileRule(rule, { dialect: session.dialect }, opts);
  const { text, values } = opts.scope
    ? scopedRuleSql(compiled, rule.resource_type, opts.scope, session.dialect)
    : compiled;
  const out: RuleRunResult = { results: new Map(), ok: 0, alarm: 0, error: 0 };
  try {
    await session.stream(text, values, (rows) => {
      for (const raw of rows) {
        if (raw.status === 'ok' && !opts.onRow) {
          out.ok++;
          continue;
        }
        const row = checkRuleRow(rule.id, raw);
        checkKeyColumns(rule, row);
        opts.onRow?.(row);
        if (row.status === 'ok') {
          out.ok++;
          continue;
        }
        out[row.status]++;
        const input = findingFromRow(rule, row);
        if (!out.results.has(input.key)) out.results.set(input.key, input);
      }
    });
  } catch (err) {
    if (err instanceof RuleRunError) throw err;
    throw new RuleRunError(rule.id, (err as Error).message);
  }
  return out;
}

/** Rows of permissions name their drive and item, rows of items their drive (RULES.md row conventions). */
export function checkKeyColumns(
  rule: RuleDefinition,
  row: { drive_id: string | null; item_id: string | null },
): void {
  if (rule.resource_type === 'permission' && (row.drive_id === null || row.item_id === null))
    throw new RuleRunError(rule.id, 'a permission rule must return drive_id and item_id with every row');
  if (rule.resource_type === 'drive_item' && row.drive_id === null)
    throw new RuleRunError(rule.id, 'a drive_item rule must return drive_id with every row');
}
