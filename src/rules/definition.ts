import { z } from 'zod';

/**
 * A rule is data: `rule.yaml` (this schema) beside `rule.sql`. Built-in rules live in
 * rules/builtin/<id>/, custom ones in folders named in config or saved through the CLI/API.
 *
 * The SQL returns one row per evaluated resource with at least `resource_id`, `status`
 * (ok | alarm | error) and `reason`; optional columns: `drive_id`, `item_id` (with
 * resource_id they identify the resource: permission ids repeat across items),
 * `resource_name`, `resource_path`, `resource_owner`, `severity` (overrides the rule's for
 * that row); any other column is kept in the finding's details. Parameters are written
 * `:name` (see sql-params.ts); `:integration_id` and `:now` are always bound.
 *
 * Framework mappings live in the packs (rules/packs/*.yaml), never here: a pack maps its
 * controls to rule ids, and `rules show` derives a rule's frameworks from the packs.
 */

export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const RULE_STATUSES = ['ok', 'alarm', 'error'] as const;
export type RuleStatus = (typeof RULE_STATUSES)[number];

/** The resource types a rule can judge (its findings' resource_type). */
export const RULE_RESOURCE_TYPES = [
  'user',
  'group',
  'drive',
  'drive_item',
  'permission',
  'tenant_settings',
] as const;
export type RuleResourceType = (typeof RULE_RESOURCE_TYPES)[number];

export const RULE_ID = /^[a-z][a-z0-9]*(_[a-z0-9]+)+$/;

const parameter = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('integer'),
    description: z.string().min(1),
    default: z.number().int(),
    min: z.number().int().optional(),
    max: z.number().int().optional(),
  }),
  z.strictObject({
    type: z.literal('number'),
    description: z.string().min(1),
    default: z.number(),
    min: z.number().optional(),
    max: z.number().optional(),
  }),
  z.strictObject({ type: z.literal('string'), description: z.string().min(1), default: z.string() }),
  z.strictObject({ type: z.literal('boolean'), description: z.string().min(1), default: z.boolean() }),
  z.strictObject({
    type: z.literal('string_list'),
    description: z.string().min(1),
    default: z.array(z.string()),
  }),
]);
export type RuleParameter = z.infer<typeof parameter>;

/** Parameter names the engine binds itself. */
export const RESERVED_PARAMETERS = ['integration_id', 'now'] as const;

export const ruleYamlSchema = z.strictObject({
  id: z.string().regex(RULE_ID, 'must be <resource>_<subject>_<expected_state> in lower snake case'),
  title: z.string().min(1),
  severity: z.enum(SEVERITIES),
  resource_type: z.enum(RULE_RESOURCE_TYPES),
  description: z.string().min(1),
  risk: z.string().min(1),
  remediation: z.string().min(1),
  tags: z.array(z.string().min(1)).default([]),
  /**
   * What the rule reads, as capabilities (src/resources/capabilities.ts: resource types,
   * gated properties such as signInActivity, extras): when one is not granted or was never
   * collected the engine reports `error` for the integration instead of running the SQL.
   */
  requires: z.array(z.string().min(1)).min(1),
  parameters: z
    .record(
      z
        .string()
        .regex(/^[a-z][a-z0-9_]*$/, 'parameter names are lower snake case')
        .refine((n) => !(RESERVED_PARAMETERS as readonly string[]).includes(n), 'reserved parameter name'),
      parameter,
    )
    .default({}),
});

export type RuleYaml = z.infer<typeof ruleYamlSchema>;

export type RuleOrigin = 'builtin' | 'folder' | 'saved';

/** A loaded, validated rule. */
export interface RuleDefinition extends RuleYaml {
  sql: string;
  origin: RuleOrigin;
  /** Where it came from: the folder, or `custom_rules:<id>` for saved rules. */
  source: string;
}

/** Parameter values after defaults and per-integration overrides. */
export type RuleParams = Record<string, number | string | boolean | string[]>;

export function defaultParams(rule: Pick<RuleDefinition, 'parameters'>): RuleParams {
  return Object.fromEntries(Object.entries(rule.parameters).map(([name, p]) => [name, p.default]));
}

export class RuleValidationError extends Error {
  constructor(
    /** The file (or saved rule) at fault. */
    readonly where: string,
    readonly problems: string[],
  ) {
    super(`${where}: ${problems.join('; ')}`);
    this.name = 'RuleValidationError';
  }
}

/**
 * Validates overrides against the rule's parameter types; returns the full set of values.
 * Throws RuleValidationError naming each bad parameter.
 */
export function resolveParams(rule: RuleDefinition, overrides: Record<string, unknown> = {}): RuleParams {
  const values = defaultParams(rule);
  const problems: string[] = [];
  for (const [name, value] of Object.entries(overrides)) {
    const def = rule.parameters[name];
    if (!def) {
      problems.push(`unknown parameter ${name}`);
      continue;
    }
    const ok =
      def.type === 'integer'
        ? Number.isInteger(value)
        : def.type === 'number'
          ? typeof value === 'number' && Number.isFinite(value)
          : def.type === 'string'
            ? typeof value === 'string'
            : def.type === 'boolean'
              ? typeof value === 'boolean'
              : Array.isArray(value) && value.every((v) => typeof v === 'string');
    if (!ok) {
      problems.push(
        `parameter ${name} must be ${def.type === 'string_list' ? 'a list of strings' : def.type === 'integer' ? 'an integer' : `a ${def.type}`}`,
      );
      continue;
    }
    if ((def.type === 'integer' || def.type === 'number') && typeof value === 'number') {
      if (def.min !== undefined && value < def.min) problems.push(`parameter ${name} must be ≥ ${def.min}`);
      if (def.max !== undefined && value > def.max) problems.push(`parameter ${name} must be ≤ ${def.max}`);
    }
    values[name] = value as RuleParams[string];
  }
  if (problems.length) throw new RuleValidationError(`rule ${rule.id}`, problems);
  return values;
}
