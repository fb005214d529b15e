import { randomUUID } from 'node:crypto';
import { decodeValue, encodeValue } from '../store/codec.ts';
import type { Store } from '../store/store.ts';
import type { AlertPoliciesTable, AlertPolicyKind } from '../store/tables/alerts.ts';
import { type ChannelRepository, parseIds } from './channel-repo.ts';
import type { Condition } from './condition.ts';
import { checkName } from './names.ts';
import {
  type ChangeFilter,
  type ComplianceFilter,
  changeFilterSchema,
  checkChangeFilter,
  complianceFilterSchema,
  parseWith,
  type QueryFilter,
  type QuietHours,
  queryFilterSchema,
  quietHoursSchema,
  type RateLimit,
  type RuleFilter,
  rateLimitSchema,
  ruleFilterSchema,
} from './policy-schema.ts';
import { isSeverity } from './severity.ts';

export interface PolicyInput {
  name: string;
  kind: AlertPolicyKind;
  /** Channel names or ids (at least one). */
  channels: string[];
  /** The kind's filter (policy-schema.ts); integrations may be named by name or id. */
  filter?: Record<string, unknown>;
  /** Severity of change and compliance alerts (default medium). */
  severity?: string;
  /** Events in one routing pass from which one digest goes out instead (default 10). */
  digestThreshold?: number;
  rateLimit?: RateLimit | null;
  quietHours?: Partial<QuietHours> | null;
}

interface PolicyBase {
  id: string;
  name: string;
  channelIds: string[];
  severity: string;
  digestThreshold: number;
  rateLimit: RateLimit | null;
  quietHours: QuietHours | null;
  enabled: boolean;
  createdAt: string;
}

/** A policy, parsed. */
export type Policy =
  | (PolicyBase & { kind: 'rule'; filter: RuleFilter })
  | (PolicyBase & { kind: 'change'; filter: ChangeFilter; condition: Condition | undefined })
  | (PolicyBase & { kind: 'compliance'; filter: ComplianceFilter })
  | (PolicyBase & { kind: 'query'; filter: QueryFilter });

/** Policies that route events of a source table past a cursor (all but query policies). */
export type EventPolicy = Exclude<Policy, { kind: 'query' }>;

export const DEFAULT_DIGEST_THRESHOLD = 10;

/** The source table an event policy kind reads. */
export function sourceOf(kind: EventPolicy['kind']): 'finding_events' | 'changes' | 'pack_scores' {
  return kind === 'rule' ? 'finding_events' : kind === 'change' ? 'changes' : 'pack_scores';
}

function json(value: unknown): unknown {
  return decodeValue('json', value);
}

/** A stored policy row, parsed (lists read rows themselves, e.g. the API's keyset pages). */
export function parsePolicy(row: AlertPoliciesTable): Policy {
  const base: PolicyBase = {
    id: row.id,
    name: row.name,
    channelIds: parseIds(row.channel_ids),
    severity: row.severity ?? 'medium',
    digestThreshold: row.digest_threshold,
    rateLimit: (json(row.rate_limit) as RateLimit | null) ?? null,
    quietHours: (json(row.quiet_hours) as QuietHours | null) ?? null,
    enabled: decodeValue('boolean', row.enabled) as boolean,
    createdAt: row.created_at,
  };
  if (row.kind === 'rule')
    return { ...base, kind: 'rule', filter: parseWith(ruleFilterSchema, 'filter', json(row.filter)) };
  if (row.kind === 'compliance')
    return {
      ...base,
      kind: 'compliance',
      filter: parseWith(complianceFilterSchema, 'filter', json(row.filter)),
    };
  if (row.kind === 'query')
    return { ...base, kind: 'query', filter: parseWith(queryFilterSchema, 'filter', json(row.filter)) };
  const filter = parseWith(changeFilterSchema, 'filter', json(row.filter));
  return { ...base, kind: 'change', filter, condition: checkChangeFilter(filter) };
}

/** Alert policies and their cursors. */
export class PolicyRepository {
  constructor(
    private readonly store: Store,
    private readonly channels: ChannelRepository,
  ) {}

  /**
   * Adds a policy; it alerts on events from now on (its cursor starts at the newest event).
   * `ruleExists` and `packExists` (from the rules catalog) catch a misspelt rule or pack id.
   */
  async add(
    input: PolicyInput,
    options: {
      ruleExists?: (id: string) => boolean;
      packExists?: (id: string) => boolean;
      /** Query policies: whether the saved query exists (the app wires saved queries in). */
      queryExists?: (name: string) => Promise<boolean>;
    } = {},
  ): Promise<Policy> {
    const name = checkName('policy', input.name);
    if (await this.find(name)) throw new Error(`a policy named "${name}" already exists`);
    if (!['rule', 'change', 'compliance', 'query'].includes(input.kind))
      throw new Error(`policy kind must be rule, change, compliance or query, not "${input.kind}"`);
    if (input.channels.length === 0) throw new Error('a policy needs at least one channel (--channel)');
    const channelIds: string[] = [];
    for (const c of input.channels) channelIds.push((await this.channels.require(c)).id);
    const rawFilter = { ...(input.filter ?? {}) };
    if (Array.isArray(rawFilter.integrations))
      rawFilter.integrations = await this.integrationIds(rawFilter.integrations as string[]);
    let filter: RuleFilter | ChangeFilter | ComplianceFilter | QueryFilter;
    if (input.kind === 'query') {
      filter = parseWith(queryFilterSchema, 'filter', rawFilter);
      if (options.queryExists && !(await options.queryExists(filter.query)))
        throw new Error(`no saved query "${filter.query}" (see \`drivewarden query list\`)`);
      if (input.rateLimit || input.quietHours)
        throw new Error(
          'a query policy sends one alert per changed result (at most every everySeconds): rate limits and quiet hours are for event policies',
        );
    } else if (input.kind === 'rule') {
      filter = parseWith(ruleFilterSchema, 'filter', rawFilter);
      const unknown = options.ruleExists ? filter.rules.filter((r) => !options.ruleExists?.(r)) : [];
      if (unknown.length)
        throw new Error(`unknown rule ${unknown.join(', ')} (see \`drivewarden rules list\`)`);
      const unknownPacks = options.packExists ? filter.packs.filter((p) => !options.packExists?.(p)) : [];
      if (unknownPacks.length)
        throw new Error(`unknown pack ${unknownPacks.join(', ')} (see \`drivewarden packs list\`)`);
    } else if (input.kind === 'compliance') {
      filter = parseWith(complianceFilterSchema, 'filter', rawFilter);
      const unknownPacks = options.packExists ? filter.packs.filter((p) => !options.packExists?.(p)) : [];
      if (unknownPacks.length)
        throw new Error(`unknown pack ${unknownPacks.join(', ')} (see \`drivewarden packs list\`)`);
    } else {
      filter = parseWith(changeFilterSchema, 'filter', rawFilter);
      checkChangeFilter(filter);
    }
    const severity = input.severity ?? 'medium';
    if (!isSeverity(severity))
      throw new Error(`severity "${severity}" must be info, low, medium, high or critical`);
    const threshold = input.digestThreshold ?? DEFAULT_DIGEST_THRESHOLD;
    if (!Number.isInteger(threshold) || threshold < 2)
      throw new Error(`digest threshold must be a whole number of at least 2, not ${threshold}`);
    const rateLimit = input.rateLimit ? parseWith(rateLimitSchema, 'rate limit', input.rateLimit) : null;
    const quietHours = input.quietHours ? parseWith(quietHoursSchema, 'quiet hours', input.quietHours) : null;

    const d = this.store.dialect;
    const now = new Date().toISOString();
    const id = randomUUID();
    const kind = input.kind;
    await this.store.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('alert_policies')
        .values({
          id,
          name,
          kind: input.kind,
          filter: encodeValue('json', filter, d),
          channel_ids: encodeValue('json', channelIds, d),
          severity,
          digest_threshold: threshold,
          rate_limit: encodeValue('json', rateLimit, d),
          quiet_hours: encodeValue('json', quietHours, d),
          enabled: encodeValue('boolean', true, d) as boolean,
          created_at: now,
          updated_at: now,
        })
        .execute();
      // A query policy keeps its last result instead (query-policy.ts); its first run is the baseline.
      if (kind === 'query') return;
      const source = sourceOf(kind);
      const newest = await trx
        .selectFrom(source)
        .select((eb) => eb.fn.max('id').as('max'))
        .executeTakeFirst();
      await trx
        .insertInto('alert_cursors')
        .values({ policy_id: id, source, last_id: Number(newest?.max ?? 0), updated_at: now })
        .execute();
    });
    return (await this.get(id)) as Policy;
  }

  async list(): Promise<Policy[]> {
    const rows = await this.store.db.selectFrom('alert_policies').selectAll().orderBy('name').execute();
    return rows.map(parsePolicy);
  }

  async enabled(): Promise<Policy[]> {
    return (await this.list()).filter((p) => p.enabled);
  }

  async get(idOrName: string): Promise<Policy | undefined> {
    const row = await this.find(idOrName);
    return row ? parsePolicy(row) : undefined;
  }

  async require(idOrName: string): Promise<Policy> {
    const policy = await this.get(idOrName);
    if (!policy) throw new Error(`no alert policy "${idOrName}" (see \`drivewarden alerts policies list\`)`);
    return policy;
  }

  /** Removes a policy, its cursor and what it held back; its delivery log stays. */
  async remove(idOrName: string): Promise<Policy> {
    const policy = await this.require(idOrName);
    await this.store.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('alert_held').where('policy_id', '=', policy.id).execute();
      await trx.deleteFrom('alert_query_state').where('policy_id', '=', policy.id).execute();
      await trx.deleteFrom('alert_cursors').where('policy_id', '=', policy.id).execute();
      await trx.deleteFrom('alert_policies').where('id', '=', policy.id).execute();
    });
    return policy;
  }

  private async integrationIds(names: string[]): Promise<string[]> {
    const ids: string[] = [];
    for (const n of names) {
      const row = await this.store.db
        .selectFrom('integrations')
        .select('id')
        .where((eb) => eb.or([eb('id', '=', n), eb('name', '=', n)]))
        .executeTakeFirst();
      if (!row) throw new Error(`no integration "${n}"`);
      ids.push(row.id);
    }
    return ids;
  }

  private async find(idOrName: string): Promise<AlertPoliciesTable | undefined> {
    return this.store.db
      .selectFrom('alert_policies')
      .selectAll()
      .where((eb) => eb.or([eb('id', '=', idOrName), eb('name', '=', idOrName)]))
      .executeTakeFirst();
  }
}
