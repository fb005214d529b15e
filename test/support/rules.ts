/** Rules-engine tests: fixture rules, a simulator tenant collected into a store of either dialect, findings as maps. */
import { fileURLToPath } from 'node:url';
import type { Kysely } from 'kysely';
import { SimAdminError } from '../../sim/admin-client.ts';
import type { SimMutation } from '../../sim/contracts.ts';
import type { SyncContext } from '../../src/collect/context.ts';
import { syncIntegration } from '../../src/collect/sync.ts';
import type { RuleDefinition } from '../../src/rules/definition.ts';
import { loadRulesDir } from '../../src/rules/loader.ts';
import type { Dialect } from '../../src/store/codec.ts';
import type { Database } from '../../src/store/schema.ts';
import { simClient, simContext } from './collector.ts';
import type { TestSim } from './simulator.ts';
import { openTestStore, type TestStore } from './store.ts';

export const FIXTURE_RULES_DIR = fileURLToPath(new URL('../fixtures/rules', import.meta.url));

/** The test fixture rules (one per resource type, shaped like the built-in ones). */
export function fixtureRules(): RuleDefinition[] {
  return loadRulesDir(FIXTURE_RULES_DIR, 'folder');
}

export function fixtureRule(id: string): RuleDefinition {
  const rule = fixtureRules().find((r) => r.id === id);
  if (!rule) throw new Error(`no fixture rule ${id}`);
  return rule;
}

export interface SyncedStore extends TestStore {
  ctx: SyncContext;
  integrationId: string;
}

/** A store of `dialect` with the simulator's tenant fully collected; an integrations row when `register`. */
export async function syncedStore(
  dialect: Dialect,
  env: TestSim,
  opts: { integrationId?: string; register?: boolean } = {},
): Promise<SyncedStore> {
  const ts = await openTestStore(dialect);
  const client = simClient(env.sim);
  const integrationId = opts.integrationId ?? `int-${dialect}`;
  if (opts.register) await registerIntegration(ts.db, dialect, integrationId, env.sim.tenantId);
  const ctx = simContext(ts.store, env.sim, client, integrationId);
  await syncIntegration(ctx, { mode: 'full' });
  return {
    ...ts,
    ctx,
    integrationId,
    cleanup: async () => {
      await client.close();
      await ts.cleanup();
    },
  };
}

/** A bare integrations row (no credentials needed: nothing here talks to Graph through it). */
export async function registerIntegration(
  db: Kysely<Database>,
  dialect: Dialect,
  id: string,
  tenantId: string,
  probe: Record<string, string> | null = null,
): Promise<void> {
  const now = new Date().toISOString();
  await db
    .insertInto('integrations')
    .values({
      id,
      name: `name-${id}`,
      tenant_id: tenantId,
      client_id: 'client',
      secret_enc: 'x',
      certificate_enc: null,
      graph_base_url: null,
      authority_url: null,
      management_base_url: null,
      ca_pem: null,
      verified_domains: '[]',
      enabled: (dialect === 'sqlite' ? 1 : true) as boolean,
      created_at: now,
      updated_at: now,
      probe: probe ? JSON.stringify(probe) : null,
      probed_at: probe ? now : null,
    })
    .execute();
}

export async function setProbe(
  db: Kysely<Database>,
  id: string,
  probe: Record<string, string>,
  at = new Date().toISOString(),
) {
  await db
    .updateTable('integrations')
    .set({ probe: JSON.stringify(probe), probed_at: at })
    .where('id', '=', id)
    .execute();
}

export interface FindingView {
  id: number;
  status: string;
  result: string;
  resource_type: string;
  reason: string;
}

/** Findings of one rule (or all) by resource_key. */
export async function findingsByKey(
  db: Kysely<Database>,
  integrationId: string,
  ruleId?: string,
): Promise<Map<string, FindingView>> {
  let q = db.selectFrom('findings').selectAll().where('integration_id', '=', integrationId);
  if (ruleId) q = q.where('rule_id', '=', ruleId);
  const rows = await q.execute();
  return new Map(
    rows.map((r) => [
      ruleId ? r.resource_key : `${r.rule_id} ${r.resource_key}`,
      {
        id: Number(r.id),
        status: r.status,
        result: r.result,
        resource_type: r.resource_type,
        reason: r.reason,
      },
    ]),
  );
}

/** Open (and suppressed) findings as "rule key" strings, sorted. */
export async function activeFindings(db: Kysely<Database>, integrationId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('findings')
    .select(['rule_id', 'resource_key', 'result', 'reason', 'resource_path'])
    .where('integration_id', '=', integrationId)
    .where('status', '<>', 'resolved')
    .execute();
  return rows
    .map((r) => `${r.rule_id} ${r.resource_key} ${r.result} ${r.resource_path ?? ''} ${r.reason}`)
    .sort();
}

export async function eventsOf(db: Kysely<Database>, findingId: number): Promise<string[]> {
  const rows = await db
    .selectFrom('finding_events')
    .select('event')
    .where('finding_id', '=', findingId)
    .orderBy('id')
    .execute();
  return rows.map((r) => r.event);
}

/** A simulator mutation that may be refused (a stale pick): false then. */
export async function tryMutate(env: TestSim, m: SimMutation): Promise<boolean> {
  try {
    await env.admin.mutate(m);
    return true;
  } catch (err) {
    if (err instanceof SimAdminError) return false;
    throw err;
  }
}
