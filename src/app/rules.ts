import { loadCatalog, loadFileRules } from '../rules/catalog.ts';
import type { RuleDefinition } from '../rules/definition.ts';
import { type EvaluationResult, evaluateIntegration } from '../rules/evaluate.ts';
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
      results.push(
        await executors.use(integration.id, mode, (executor) =>
          evaluateIntegration(app.store, {
            integrationId: integration.id,
            mode,
            rules,
            onlyRules: opts.rule ? [opts.rule] : undefined,
            logger: app.logger,
            executor,
          }),
        ),
      );
    }
  } finally {
    await executors.close();
  }
  return results;
}
