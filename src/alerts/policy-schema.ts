import { z } from 'zod';
import { resourceByType, resources } from '../resources/index.ts';
import { type Condition, conditionFields, parseCondition } from './condition.ts';
import { ALERT_SEVERITIES } from './severity.ts';

/**
 * What a policy alerts on. Rule policies: finding events (opened, resolved, reopened)
 * filtered by rule, severity, tag, pack and integration. Change policies: rows of `changes`
 * filtered by resource type, change type, changed fields and a condition on the new state.
 * Compliance policies: a pack's recorded score crossing a threshold. An empty list means "any".
 */

const severity = z.enum(ALERT_SEVERITIES);
/** Same form as rule ids (src/rules/definition.ts RULE_ID). */
const ruleId = z.string().regex(/^[a-z][a-z0-9]*(_[a-z0-9]+)+$/, 'is not a rule id');

export const FINDING_EVENTS = ['opened', 'resolved', 'reopened'] as const;
export const CHANGE_TYPES = ['added', 'modified', 'removed'] as const;

export const ruleFilterSchema = z.strictObject({
  events: z.array(z.enum(FINDING_EVENTS)).min(1).default(['opened', 'reopened']),
  rules: z.array(ruleId).default([]),
  /** Exactly these severities (empty: any) … */
  severities: z.array(severity).default([]),
  /** … and at least this one. */
  minSeverity: severity.optional(),
  /** The rule carries one of these tags (rule.yaml `tags`). */
  tags: z.array(z.string().min(1)).default([]),
  /** The rule belongs to one of these packs. */
  packs: z.array(z.string().min(1)).default([]),
  /** Integration ids. */
  integrations: z.array(z.string().min(1)).default([]),
});

export const changeFilterSchema = z.strictObject({
  resourceTypes: z.array(z.string()).default([]),
  changeTypes: z.array(z.enum(CHANGE_TYPES)).default([]),
  /** At least one of these columns changed. */
  fields: z.array(z.string().min(1)).default([]),
  /** A condition on the new state (./condition.ts). */
  where: z.string().min(1).optional(),
  integrations: z.array(z.string().min(1)).default([]),
});

export const complianceFilterSchema = z.strictObject({
  /** Pack ids (rules/packs/*.yaml); empty: every pack. */
  packs: z.array(z.string().min(1)).default([]),
  /** Alert when a pack's score (passing / evaluated controls) falls below this percentage … */
  belowPercent: z.number().min(0).max(100),
  /** … and when it is back at or above it. */
  recovered: z.boolean().default(true),
  integrations: z.array(z.string().min(1)).default([]),
});

/** Same form as saved query names (src/query/saved-queries.ts QUERY_NAME). */
const queryName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'is not a saved query name');

export const queryFilterSchema = z.strictObject({
  /** The saved query (or built-in example) whose result is watched. */
  query: queryName,
  /** Values of its `:name` parameters. */
  params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
  /** Columns that identify a row (empty: the whole row); a row whose other columns change is then not "added". */
  keyColumns: z.array(z.string().min(1)).default([]),
  /** Runs at most this often (on the router's passes: after each collection or evaluation, and on its timer). */
  everySeconds: z.number().int().min(0).default(300),
});

export type QueryFilter = z.infer<typeof queryFilterSchema>;
export type RuleFilter = z.infer<typeof ruleFilterSchema>;
export type ComplianceFilter = z.infer<typeof complianceFilterSchema>;
export type ChangeFilter = z.infer<typeof changeFilterSchema>;

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (24 h)');

export const quietHoursSchema = z.strictObject({
  start: hhmm,
  end: hhmm,
  timeZone: z
    .string()
    .default('UTC')
    .refine((tz) => {
      try {
        new Intl.DateTimeFormat('en', { timeZone: tz });
        return true;
      } catch {
        return false;
      }
    }, 'is not a time zone (e.g. Europe/Berlin)'),
});

export const rateLimitSchema = z.strictObject({
  /** At most this many messages per policy (each sent to every channel) … */
  max: z.number().int().positive(),
  /** … per this many seconds; more events wait and go out as one digest. */
  perSeconds: z.number().int().positive(),
});

export type QuietHours = z.infer<typeof quietHoursSchema>;
export type RateLimit = z.infer<typeof rateLimitSchema>;

function issues(what: string, error: z.ZodError): string {
  return error.issues
    .map((i) => `${what}${i.path.length ? `.${i.path.join('.')}` : ''}: ${i.message}`)
    .join('; ');
}

/** Parses with a schema; the error names each bad field under `what`. */
export function parseWith<T>(schema: z.ZodType<T>, what: string, input: unknown): T {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw new Error(issues(what, parsed.error));
  return parsed.data;
}

/** Checks resource types, fields and the condition of a change filter against the resource definitions. */
export function checkChangeFilter(filter: ChangeFilter): Condition | undefined {
  const known: string[] = resources.map((r) => r.type);
  const problems: string[] = [];
  for (const t of filter.resourceTypes)
    if (!known.includes(t)) problems.push(`unknown resource type ${t} (one of ${known.join(', ')})`);
  if (problems.length) throw new Error(problems.join('; '));
  const types = filter.resourceTypes.length ? filter.resourceTypes : known;
  const columns = new Set(
    types.flatMap((t) => {
      const def = resourceByType(t);
      return [...def.key, ...Object.keys(def.columns)];
    }),
  );
  const scope = filter.resourceTypes.length ? filter.resourceTypes.join(', ') : 'any resource type';
  for (const f of filter.fields) if (!columns.has(f)) problems.push(`field ${f} is not a column of ${scope}`);
  const condition = filter.where === undefined ? undefined : parseCondition(filter.where);
  for (const f of condition ? conditionFields(condition) : [])
    if (!columns.has(f)) problems.push(`condition field ${f} is not a column of ${scope}`);
  if (problems.length) throw new Error(problems.join('; '));
  return condition;
}

const PERIOD_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** `10/h`, `100/d`, `5/10m`: at most N messages per period. */
export function parseRateLimit(text: string): RateLimit {
  const m = /^\s*(\d+)\s*\/\s*(\d*)\s*([smhd])\s*$/.exec(text);
  if (!m) throw new Error(`rate limit "${text}" must look like 10/h, 100/d or 5/10m`);
  const perSeconds = (m[2] ? Number(m[2]) : 1) * PERIOD_SECONDS[m[3]];
  return parseWith(rateLimitSchema, 'rate limit', { max: Number(m[1]), perSeconds });
}

/** `22:00-07:00` (and a time zone, default UTC). */
export function parseQuietHours(text: string, timeZone = 'UTC'): QuietHours {
  const m = /^\s*(\d\d:\d\d)\s*-\s*(\d\d:\d\d)\s*$/.exec(text);
  if (!m) throw new Error(`quiet hours "${text}" must look like 22:00-07:00`);
  return parseWith(quietHoursSchema, 'quiet hours', { start: m[1], end: m[2], timeZone });
}

/** A rate limit as people write it. */
export function formatRateLimit(limit: RateLimit): string {
  for (const [unit, seconds] of Object.entries(PERIOD_SECONDS).reverse())
    if (limit.perSeconds % seconds === 0) {
      const n = limit.perSeconds / seconds;
      return `${limit.max}/${n === 1 ? '' : n}${unit}`;
    }
  return `${limit.max}/${limit.perSeconds}s`;
}
