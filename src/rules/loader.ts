import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { capabilities } from '../resources/capabilities.ts';
import { PACKAGE_ROOT } from '../util/runtime-files.ts';
import {
  RESERVED_PARAMETERS,
  type RuleDefinition,
  type RuleOrigin,
  RuleValidationError,
  ruleYamlSchema,
} from './definition.ts';
import { parameterNames } from './sql-params.ts';

/**
 * Reads rules: a folder holds `rule.yaml` + `rule.sql`; a rules directory holds one such
 * folder per rule. Every problem is reported with the file and the field at fault, and a
 * rule with a problem is never half-loaded.
 */

/** rules/builtin at the root of the package. */
export const BUILTIN_RULES_DIR = join(PACKAGE_ROOT, 'rules/builtin');

/** Parses and validates one rule from its two texts; `where` names it in errors. */
export function parseRule(
  yamlText: string,
  sqlText: string,
  origin: RuleOrigin,
  source: string,
  where = { yaml: `${source}/rule.yaml`, sql: `${source}/rule.sql` },
): RuleDefinition {
  let doc: unknown;
  try {
    doc = parseYaml(yamlText);
  } catch (err) {
    throw new RuleValidationError(where.yaml, [`not valid YAML: ${(err as Error).message.split('\n')[0]}`]);
  }
  const parsed = ruleYamlSchema.safeParse(doc ?? {});
  if (!parsed.success) {
    throw new RuleValidationError(
      where.yaml,
      parsed.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(document)'}: ${i.message}`),
    );
  }
  const rule = parsed.data;
  const problems: string[] = [];
  const known = new Set(capabilities().map((c) => c.capability));
  for (const need of rule.requires) {
    if (!known.has(need))
      problems.push(`requires: unknown capability ${need} (known: ${[...known].join(', ')})`);
  }
  if (problems.length) throw new RuleValidationError(where.yaml, problems);

  const sql = sqlText.trim().replace(/;\s*$/, '');
  if (!sql) throw new RuleValidationError(where.sql, ['empty']);
  const declared = new Set([...Object.keys(rule.parameters), ...RESERVED_PARAMETERS]);
  const unknown = [...new Set(parameterNames(sql))].filter((n) => !declared.has(n));
  if (unknown.length) {
    throw new RuleValidationError(
      where.sql,
      unknown.map((n) => `uses :${n}, which rule.yaml does not declare under parameters`),
    );
  }
  return { ...rule, sql, origin, source };
}

/** Loads the rule in `folder`; its id must be the folder's name. */
export function loadRuleFolder(folder: string, origin: RuleOrigin = 'folder'): RuleDefinition {
  const yamlFile = join(folder, 'rule.yaml');
  const sqlFile = join(folder, 'rule.sql');
  for (const file of [yamlFile, sqlFile]) {
    if (!existsSync(file)) throw new RuleValidationError(file, ['missing']);
  }
  const rule = parseRule(readFileSync(yamlFile, 'utf8'), readFileSync(sqlFile, 'utf8'), origin, folder, {
    yaml: yamlFile,
    sql: sqlFile,
  });
  if (rule.id !== basename(folder)) {
    throw new RuleValidationError(yamlFile, [
      `id: ${rule.id} must match its folder's name ${basename(folder)}`,
    ]);
  }
  return rule;
}

/** Loads every rule folder in a rules directory, sorted by id. */
export function loadRulesDir(dir: string, origin: RuleOrigin = 'folder'): RuleDefinition[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new RuleValidationError(dir, ['not a directory of rule folders']);
  }
  return readdirSync(dir)
    .filter((name) => statSync(join(dir, name)).isDirectory())
    .sort()
    .map((name) => loadRuleFolder(join(dir, name), origin));
}

/** The built-in rules. */
export function loadBuiltinRules(): RuleDefinition[] {
  return loadRulesDir(BUILTIN_RULES_DIR, 'builtin');
}
