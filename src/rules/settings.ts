import type { Kysely } from 'kysely';
import { decodeValue, encodeValue } from '../store/codec.ts';
import type { Database } from '../store/schema.ts';
import type { Store } from '../store/store.ts';
import {
  type RuleDefinition,
  type RuleParameter,
  type RuleParams,
  RuleValidationError,
  resolveParams,
} from './definition.ts';

/**
 * Per integration and rule (table rule_settings): enabled or not, and parameter overrides.
 * No row = enabled with the defaults. Every change sets updated_at, which also tells the
 * incremental evaluation to run that rule over everything once (evaluate.ts).
 */

export interface StoredSetting {
  enabled: boolean;
  overrides: Record<string, unknown>;
  updatedAt: string;
}

export async function readSettings(
  db: Kysely<Database>,
  integrationId: string,
): Promise<Map<string, StoredSetting>> {
  const rows = await db
    .selectFrom('rule_settings')
    .select(['rule_id', 'enabled', 'params', 'updated_at'])
    .where('integration_id', '=', integrationId)
    .execute();
  return new Map(
    rows.map((r) => [
      r.rule_id,
      {
        enabled: decodeValue('boolean', r.enabled) as boolean,
        overrides: (decodeValue('json', r.params) as Record<string, unknown> | null) ?? {},
        updatedAt: r.updated_at,
      },
    ]),
  );
}

export interface EffectiveSetting {
  enabled: boolean;
  params: RuleParams;
}

/** The rule's setting for one integration; stored overrides the rule no longer accepts throw RuleValidationError. */
export function effectiveSetting(rule: RuleDefinition, stored: StoredSetting | undefined): EffectiveSetting {
  return { enabled: stored?.enabled ?? true, params: resolveParams(rule, stored?.overrides ?? {}) };
}

async function upsert(
  store: Store,
  integrationId: string,
  ruleId: string,
  values: { enabled: boolean; overrides: Record<string, unknown> },
  actor: string | null,
): Promise<void> {
  const row = {
    enabled: encodeValue('boolean', values.enabled, store.dialect) as boolean,
    params: encodeValue('json', values.overrides, store.dialect),
    updated_at: new Date().toISOString(),
    updated_by: actor,
  };
  await store.db
    .insertInto('rule_settings')
    .values({ integration_id: integrationId, rule_id: ruleId, ...row })
    .onConflict((oc) => oc.columns(['integration_id', 'rule_id']).doUpdateSet(row))
    .execute();
}

export async function setRuleEnabled(
  store: Store,
  integrationId: string,
  rule: RuleDefinition,
  enabled: boolean,
  actor: string | null = null,
): Promise<void> {
  const stored = (await readSettings(store.db, integrationId)).get(rule.id);
  await upsert(store, integrationId, rule.id, { enabled, overrides: stored?.overrides ?? {} }, actor);
}

/**
 * Sets (`set`) and removes (`unset`) parameter overrides; the result is validated against the
 * rule's parameter types before anything is stored. Returns the values now in effect.
 */
export async function setRuleParams(
  store: Store,
  integrationId: string,
  rule: RuleDefinition,
  change: { set?: Record<string, unknown>; unset?: string[] },
  actor: string | null = null,
): Promise<RuleParams> {
  const stored = (await readSettings(store.db, integrationId)).get(rule.id);
  const overrides = { ...(stored?.overrides ?? {}), ...(change.set ?? {}) };
  for (const name of change.unset ?? []) {
    if (!rule.parameters[name])
      throw new RuleValidationError(`rule ${rule.id}`, [`unknown parameter ${name}`]);
    delete overrides[name];
  }
  const params = resolveParams(rule, overrides);
  await upsert(store, integrationId, rule.id, { enabled: stored?.enabled ?? true, overrides }, actor);
  return params;
}

/**
 * Asks the next incremental evaluation to run the rule over everything (its inputs changed
 * outside the change log: a storage policy, a pack, an edited custom rule).
 */
export async function requestFullRun(
  store: Store,
  integrationId: string,
  rule: RuleDefinition,
): Promise<void> {
  const stored = (await readSettings(store.db, integrationId)).get(rule.id);
  await upsert(
    store,
    integrationId,
    rule.id,
    { enabled: stored?.enabled ?? true, overrides: stored?.overrides ?? {} },
    null,
  );
}

/**
 * A parameter value as typed on the command line, by the parameter's type: numbers and
 * booleans as written, a string as is, a list as a JSON array or comma-separated.
 */
export function parseParamValue(name: string, def: RuleParameter, text: string): unknown {
  const bad = (what: string) =>
    new RuleValidationError(`parameter ${name}`, [`${JSON.stringify(text)} is not ${what}`]);
  switch (def.type) {
    case 'integer':
    case 'number': {
      const n = text.trim() === '' ? Number.NaN : Number(text);
      if (!Number.isFinite(n)) throw bad(def.type === 'integer' ? 'an integer' : 'a number');
      return n;
    }
    case 'boolean':
      if (text === 'true' || text === 'false') return text === 'true';
      throw bad('true or false');
    case 'string':
      return text;
    case 'string_list': {
      if (text.trim().startsWith('[')) {
        try {
          return JSON.parse(text);
        } catch {
          throw bad('a JSON array of strings');
        }
      }
      return text
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    }
  }
}

/** `name=value` pairs → overrides typed by the rule's parameters. */
export function parseParamAssignments(
  rule: RuleDefinition,
  assignments: readonly string[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const a of assignments) {
    const eq = a.indexOf('=');
    if (eq <= 0) throw new RuleValidationError(`--param ${a}`, ['expected name=value']);
    const name = a.slice(0, eq).trim();
    const def = rule.parameters[name];
    if (!def) {
      const known = Object.keys(rule.parameters);
      throw new RuleValidationError(`rule ${rule.id}`, [
        `unknown parameter ${name} (${known.length ? `known: ${known.join(', ')}` : 'it has no parameters'})`,
      ]);
    }
    out[name] = parseParamValue(name, def, a.slice(eq + 1));
  }
  return out;
}
