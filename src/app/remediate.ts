import type { Kysely } from 'kysely';
import type { SyncContext } from '../collect/context.ts';
import { syncDrive } from '../collect/drive-sync.ts';
import { collectTenantSettings } from '../collect/tenant-settings.ts';
import { AUTO_ACTOR_PREFIX, type AutoPlan, planAuto } from '../remediate/auto.ts';
import { type ExecutionReport, executePlan } from '../remediate/execute.ts';
import type { RemovalPlan } from '../remediate/plan.ts';
import { type Decision, decide, itemsForLink } from '../remediate/reviews.ts';
import { applySettingsPlan, type SettingsFixResult, type SettingsPlan } from '../remediate/settings.ts';
import type { Database } from '../store/schema.ts';
import type { AppContext } from './context.ts';

/**
 * A removal plan executed, then the inventory re-read from Graph: one delta round per drive
 * where something changed (the sharing change shows up in the feed and the collector
 * re-reads the item's permissions). A removal Graph acknowledged but that the re-read still
 * lists is reported as unconfirmed, never hidden.
 */

export interface RemovalRun extends ExecutionReport {
  /** Drives whose re-read failed (the inventory may lag until the next sync). */
  rereadErrors: Array<{ driveId: string; error: string }>;
  /** Steps Graph answered as done whose permission the re-read inventory still lists. */
  unconfirmed: string[];
}

export async function removeAndReread(
  ctx: SyncContext,
  plan: RemovalPlan,
  actor: string,
  now?: () => Date,
): Promise<RemovalRun> {
  const report = await executePlan(
    { db: ctx.store.db, dialect: ctx.store.dialect, client: ctx.client, actor, now },
    plan,
  );
  const rereadErrors: RemovalRun['rereadErrors'] = [];
  for (const driveId of report.affectedDrives) {
    const r = await syncDrive(ctx, driveId, { mode: 'delta' });
    if (r.error) rereadErrors.push({ driveId, error: r.error.message });
  }
  const unconfirmed: string[] = [];
  for (const o of report.outcomes) {
    if (o.result !== 'done') continue;
    const still = await ctx.store.db
      .selectFrom('permissions')
      .select('id')
      .where('integration_id', '=', plan.integrationId)
      .where('drive_id', '=', o.step.driveId)
      .where('item_id', '=', o.step.itemId)
      .where('id', '=', o.step.permissionId)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    if (still) unconfirmed.push(o.step.permissionId);
  }
  return { ...report, rereadErrors, unconfirmed };
}

/** A tenant-settings fix, then the tenant_settings row re-read from Graph (with its history). */
export async function fixSettingsAndReread(
  ctx: SyncContext,
  plan: SettingsPlan,
  actor: string,
): Promise<SettingsFixResult & { rereadError: string | null }> {
  const result = await applySettingsPlan(
    { db: ctx.store.db, dialect: ctx.store.dialect, client: ctx.client, actor },
    plan,
  );
  if (result.result !== 'done' || plan.changes.length === 0) return { ...result, rereadError: null };
  try {
    await collectTenantSettings(ctx, 'poll');
    return { ...result, rereadError: null };
  } catch (err) {
    return { ...result, rereadError: (err as Error).message };
  }
}

/**
 * A collector context for one integration of the app (its own Graph client), for the
 * remediation commands: the run and the re-read go through the same client.
 */
export async function withIntegrationContext<T>(
  app: AppContext,
  integrationId: string,
  fn: (ctx: SyncContext) => Promise<T>,
): Promise<T> {
  const integration = await app.integrations.getWithCredentials(integrationId);
  const client = app.graphClientFor(integration);
  try {
    return await fn({
      store: app.store,
      client,
      integration: { ...integration },
      logger: app.logger,
      concurrency: app.config.sync.concurrency,
    });
  } finally {
    await client.close();
  }
}

/**
 * One automatic round for an integration: the due alarms of the allowed rules, within the
 * daily cap, removed and re-read like a manual run (actor `auto:<rule>`). Nothing happens
 * unless a rule was allowed (`drivewarden remediate auto allow`).
 */
export async function autoRemediate(
  ctx: SyncContext,
  now: Date,
): Promise<{ plan: AutoPlan; runs: Array<{ ruleId: string; run: RemovalRun }> }> {
  const plan = await planAuto(ctx.store.db, ctx.integration.id, now);
  const runs: Array<{ ruleId: string; run: RemovalRun }> = [];
  for (const p of plan.plans)
    runs.push({
      ruleId: p.ruleId,
      run: await removeAndReread(ctx, p.plan, `${AUTO_ACTOR_PREFIX}${p.ruleId}`, () => now),
    });
  return { plan, runs };
}

/** An owner's review decisions recorded (the link spent), then the revoked grants removed and re-read. */
export async function decideAndRemediate(
  ctx: SyncContext,
  key: Buffer,
  token: string,
  decisions: Decision[],
  now: Date,
): Promise<{ owner: string; kept: number; run: RemovalRun | null }> {
  const d = await decide(ctx.store.db, key, token, decisions, now);
  const run =
    d.revoke.steps.length > 0 ? await removeAndReread(ctx, d.revoke, `review:${d.decidedBy}`) : null;
  return { owner: d.owner, kept: d.kept, run };
}

/** What the owner's review page says after the decisions: plain JSON (it crosses a thread boundary). */
export interface ReviewAnswer {
  integrationId: string;
  owner: string;
  kept: number;
  revoked: Array<{ path: string; result: string }>;
}

/**
 * The review page's POST: the link checked, the campaign's integration found, the decisions
 * recorded and the revoked grants removed through that integration's collector context.
 */
export async function answerReview(
  db: Kysely<Database>,
  key: Buffer,
  withContext: <T>(integrationId: string, fn: (ctx: SyncContext) => Promise<T>) => Promise<T>,
  token: string,
  decisions: Decision[],
  now: Date,
): Promise<ReviewAnswer> {
  const page = await itemsForLink(db, key, token, now);
  const campaign = await db
    .selectFrom('review_campaigns')
    .select('integration_id')
    .where('id', '=', page.campaignId)
    .executeTakeFirstOrThrow();
  const result = await withContext(campaign.integration_id, (ctx) =>
    decideAndRemediate(ctx, key, token, decisions, now),
  );
  return {
    integrationId: campaign.integration_id,
    owner: result.owner,
    kept: result.kept,
    revoked: (result.run?.outcomes ?? []).map((o) => ({
      path: o.step.itemPath ?? o.step.itemId,
      result:
        o.result === 'done' || o.result === 'already_gone' ? 'access removed' : `not removed (${o.result})`,
    })),
  };
}
