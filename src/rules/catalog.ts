import { existsSync } from 'node:fs';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';
import { type RuleDefinition, RuleValidationError } from './definition.ts';
import { BUILTIN_RULES_DIR, loadBuiltinRules, loadRulesDir, parseRule } from './loader.ts';

/**
 * Every rule the engine knows: the built-in rules, the custom rule folders named in config
 * (`rules.folders`), and the custom rules saved in the store (`rules add`). One id, one
 * rule: the same id from two sources is an error naming both, never a silent override.
 */

export interface CatalogOptions {
  /** Directories of rule folders (config `rules.folders`). */
  folders?: readonly string[];
  /** The built-in rules (default: rules/builtin); tests pass their own. */
  builtin?: readonly RuleDefinition[];
}

export class RuleCatalogError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RuleCatalogError';
  }
}

/** A saved custom rule, parsed; `where` names it in errors. */
export function parseSavedRule(row: { id: string; yaml: string; sql: string }): RuleDefinition {
  const source = `custom_rules:${row.id}`;
  const rule = parseRule(row.yaml, row.sql, 'saved', source, {
    yaml: `${source} (rule.yaml)`,
    sql: `${source} (rule.sql)`,
  });
  if (rule.id !== row.id)
    throw new RuleValidationError(`${source} (rule.yaml)`, [`id: ${rule.id} differs from the saved id`]);
  return rule;
}

/** The saved custom rules. */
export async function loadSavedRules(db: Kysely<Database>): Promise<RuleDefinition[]> {
  const rows = await db.selectFrom('custom_rules').select(['id', 'yaml', 'sql']).orderBy('id').execute();
  return rows.map(parseSavedRule);
}

/** Built-in and folder rules (no store needed). */
export function loadFileRules(options: CatalogOptions = {}): RuleDefinition[] {
  // rules/builtin may not exist in a checkout without built-in rules yet: none then.
  const rules = [...(options.builtin ?? (existsSync(BUILTIN_RULES_DIR) ? loadBuiltinRules() : []))];
  for (const folder of options.folders ?? []) rules.push(...loadRulesDir(folder, 'folder'));
  return rules;
}

/** Every rule, sorted by id; throws RuleCatalogError when an id comes from two sources. */
export async function loadCatalog(
  db: Kysely<Database>,
  options: CatalogOptions = {},
): Promise<RuleDefinition[]> {
  return mergeRules([...loadFileRules(options), ...(await loadSavedRules(db))]);
}

/** Checks ids are unique across sources and sorts by id. */
export function mergeRules(rules: RuleDefinition[]): RuleDefinition[] {
  const byId = new Map<string, RuleDefinition>();
  const problems: string[] = [];
  for (const rule of rules) {
    const seen = byId.get(rule.id);
    if (seen)
      problems.push(
        `rule id ${rule.id} is defined twice: ${describeSource(seen)} and ${describeSource(rule)}`,
      );
    else byId.set(rule.id, rule);
  }
  if (problems.length) throw new RuleCatalogError(problems.join('; '));
  return [...byId.values()].sort((a, b) => a.id.localeCompare(b.id));
}

export function describeSource(rule: Pick<RuleDefinition, 'origin' | 'source'>): string {
  return rule.origin === 'builtin'
    ? `the built-in rule (${rule.source})`
    : rule.origin === 'folder'
      ? `the rule folder ${rule.source}`
      : `the saved rule ${rule.source}`;
}

/** One rule by id, or an error listing what exists. */
export function findRule(rules: readonly RuleDefinition[], id: string): RuleDefinition {
  const rule = rules.find((r) => r.id === id);
  if (!rule)
    throw new RuleCatalogError(`no rule ${id} (\`drivewarden rules list\` shows the ${rules.length} rules)`);
  return rule;
}
