import { loadCatalog, loadFileRules } from '../rules/catalog.ts';
import type { RuleDefinition } from '../rules/definition.ts';
import { type EvaluationResult, evaluateIntegration } from '../rules/evaluate.ts';
import { recordPackScores } from '../rules/pack-score.ts';
import { loadBuiltinPacks } from '../rules/packs.ts';
import type { IntegrationInfo } from '../store/integrations.ts';
import type { AppContext } from './context.ts';
import { RuleExecutors } from './rule-executors.ts';

/** The rules engine as one process uses it: the catalog from config, evaluations per integration. */

/** Every rule: built-in, the config's folders (`rules.folders`), saved ones. */
export function appRules(app: AppContext): Promise<RuleDefinition[]> {
  return loadCatalog(app.store.db, { folders: app.config.rules.folders });
}

/** Built-in and folder rules only (what a saved rule must not collide with). */
export function appFileRules(app: AppContext): RuleDefinition[] {
  return loadFileRules({ folders: app.config.rules.folders });
}

/** An integration by name or id, or a clear error. */
export async function requireIntegration(app: AppContext, nameOrId: string): Promise<IntegrationInfo> {
  const found = await app.integrations.get(nameOrId);
  if (!found) throw new Error(`no integration "${nameOrId}" (\`drivewarden integrations list\` shows them)`);
  return found;
}

/**
 * After an evaluation that changed findings: the packs' scores (recorded only when they
 * differ from the last ones). A pack that cannot be scored never fails the evaluation.
 */
export async function recordScoresAfter(app: AppContext, result: EvaluationResult): Promise<void> {
  const f = result.findings;
  if (f.opened + f.reopened + f.resolved + f.suppressed + f.changed === 0 && result.mode !== 'full') return;
  try {
    await recordPackScores(app.store, result.integrationId, loadBuiltinPacks());
  } catch (err) {
    app.logger.warn(
      { integration: result.integrationId, err: (err as Error).message },
      'pack scores not recorded',
    );
  }
}

/**
 * One evaluation of a running service (the rules.evaluate job): the app's rules, pack scores
 * after, a log line (info when findings moved). Throws StaleEvaluationError when another
 * process wrote newer results meanwhile.
 */
export async function evaluateForService(
  app: AppContext,
  executors: RuleExecutors,
  integration: { id: string; name: string },
  mode: 'full' | 'incremental',
): Promise<EvaluationResult> {
  const rules = await appRules(app);
  const result = await executors.use(integration.id, mode, (executor) =>
    evaluateIntegration(app.store, {
      integrationId: integration.id,
      mode,
      rules,
      logger: app.logger,
      executor,
    }),
  );
  await recordScoresAfter(app, result);
  const f = result.findings;
  const line = `integration ${integration.name}: ${result.mode} rule evaluation in ${result.durationMs} ms: ${f.opened} opened, ${f.reopened} reopened, ${f.resolved} resolved`;
  if (f.opened + f.reopened + f.resolved + result.failedRules.length > 0)
    app.logger.info({ integration: integration.name }, line);
  else app.logger.debug({ integration: integration.name }, line);
  return result;
}

export interface RunRulesOptions {
  /** One integration (name or id); default every enabled one. */
  integration?: string;
  /** One rule (a full run of it). */
  rule?: string;
  /** Everything, not only what changed since the last evaluation. */
  full?: boolean;
}

export async function runRules(app: AppContext, opts: RunRulesOptions = {}): Promise<EvaluationResult[]> {
  const rules = await appRules(app);
  if (opts.rule && !rules.some((r) => r.id === opts.rule))
    throw new Error(`no rule ${opts.rule} (\`drivewarden rules list\` shows them)`);
  const targets = opts.integration
    ? [await requireIntegration(app, opts.integration)]
    : (await app.integrations.list()).filter((i) => i.enabled);
  const results: EvaluationResult[] = [];
  const executors = new RuleExecutors(app);
  try {
    for (const integration of targets) {
      const mode = opts.full || opts.rule ? 'full' : 'incremental';
      const result = await executors.use(integration.id, mode, (executor) =>
        evaluateIntegration(app.store, {
          integrationId: integration.id,
          mode,
          rules,
          onlyRules: opts.rule ? [opts.rule] : undefined,
          logger: app.logger,
          executor,
        }),
      );
      await recordScoresAfter(app, result);
      results.push(result);
    }
  } finally {
    await executors.close();
  }
  return results;
}
