import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { PACKAGE_ROOT } from '../util/runtime-files.ts';
import { RULE_ID } from './definition.ts';
import { loadBuiltinRules } from './loader.ts';

/**
 * Compliance packs (rules/packs/<id>.yaml): a framework's controls, each mapped to the rule ids
 * whose results decide it. The mapping lives only here, never in rule.yaml: a rule's frameworks
 * are derived from the packs (frameworksOf). A control with no rules is listed for coverage
 * and never evaluated. Every problem names the file and the field.
 */

/** rules/packs at the root of the package. */
export const BUILTIN_PACKS_DIR = join(PACKAGE_ROOT, 'rules/packs');

const PACK_ID = /^[a-z0-9]+(-[a-z0-9]+)*$/;

const controlSchema = z.strictObject({
  id: z.string().min(1),
  title: z.string().min(1),
  rules: z.array(z.string().regex(RULE_ID, 'must be a rule id in lower snake case')),
});

export const packSchema = z.strictObject({
  id: z.string().regex(PACK_ID, 'must be lower-case words joined by hyphens'),
  title: z.string().min(1),
  /** The version of the framework the pack follows (quote it in YAML: "4.0.0"). */
  version: z.string().min(1),
  /** Where the controls are published. */
  source: z.url(),
  description: z.string().min(1).optional(),
  controls: z.array(controlSchema).min(1),
});

export type PackControl = z.infer<typeof controlSchema>;
export interface Pack extends z.infer<typeof packSchema> {
  /** The file it was read from. */
  file: string;
}

export class PackValidationError extends Error {
  constructor(
    readonly where: string,
    readonly problems: string[],
  ) {
    super(`${where}: ${problems.join('; ')}`);
    this.name = 'PackValidationError';
  }
}

/** Parses one pack; every rule id must be in `knownRuleIds`. */
export function parsePack(text: string, file: string, knownRuleIds: ReadonlySet<string>): Pack {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new PackValidationError(file, [`not valid YAML: ${(err as Error).message.split('\n')[0]}`]);
  }
  const parsed = packSchema.safeParse(doc ?? {});
  if (!parsed.success) {
    throw new PackValidationError(
      file,
      parsed.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(document)'}: ${i.message}`),
    );
  }
  const pack = parsed.data;
  const problems: string[] = [];
  const seen = new Set<string>();
  pack.controls.forEach((control, c) => {
    if (seen.has(control.id)) problems.push(`controls.${c}.id: ${control.id} appears twice`);
    seen.add(control.id);
    const inControl = new Set<string>();
    control.rules.forEach((ruleId, r) => {
      if (!knownRuleIds.has(ruleId)) problems.push(`controls.${c}.rules.${r}: unknown rule id ${ruleId}`);
      if (inControl.has(ruleId)) problems.push(`controls.${c}.rules.${r}: ${ruleId} appears twice`);
      inControl.add(ruleId);
    });
  });
  if (problems.length) throw new PackValidationError(file, problems);
  return { ...pack, file };
}

/** Loads every `*.yaml` pack of a directory, sorted by id; a pack's id must be its file's name. */
export function loadPacks(dir: string, knownRuleIds: ReadonlySet<string>): Pack[] {
  if (!existsSync(dir)) throw new PackValidationError(dir, ['no such directory of packs']);
  const packs = readdirSync(dir)
    .filter((name) => name.endsWith('.yaml'))
    .sort()
    .map((name) => {
      const file = join(dir, name);
      const pack = parsePack(readFileSync(file, 'utf8'), file, knownRuleIds);
      if (pack.id !== basename(name, '.yaml')) {
        throw new PackValidationError(file, [`id: ${pack.id} must match the file's name ${basename(name)}`]);
      }
      return pack;
    });
  return packs.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** The built-in packs, checked against the built-in rules. */
export function loadBuiltinPacks(): Pack[] {
  return loadPacks(BUILTIN_PACKS_DIR, new Set(loadBuiltinRules().map((r) => r.id)));
}

/** A control that a rule helps decide. */
export interface FrameworkRef {
  packId: string;
  packTitle: string;
  controlId: string;
  controlTitle: string;
}

/** The controls, across the packs, that the rule helps decide (for `rules show` and the docs). */
export function frameworksOf(ruleId: string, packs: readonly Pack[] = loadBuiltinPacks()): FrameworkRef[] {
  return packs.flatMap((pack) =>
    pack.controls
      .filter((c) => c.rules.includes(ruleId))
      .map((c) => ({ packId: pack.id, packTitle: pack.title, controlId: c.id, controlTitle: c.title })),
  );
}
