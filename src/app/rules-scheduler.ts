import { StaleEvaluationError } from '../rules/cursor.ts';
import type { EvaluationResult } from '../rules/evaluate.ts';
import type { AppContext } from './context.ts';
import { RuleExecutors } from './rule-executors.ts';
import { evaluateForService } from './rules.ts';

/**
 * Rule evaluations without a job queue, for the real-time bench (bench/lib/realtime.ts), which
 * drives the collector without a service; the service evaluates through rules.evaluate jobs
 * (app/jobs.ts) with the same semantics: an incremental evaluation after each applied sync or
 * delta round (debounced per integration, so a burst of rounds is one evaluation), a full
 * one after each full collection and every `rules.fullIntervalSeconds` (what only time
 * changes — expiries, staleness — moves then). One evaluation runs at a time; a full one
 * waiting for an integration makes its incremental one unnecessary.
 */
export interface RulesScheduler {
  /** A sync or delta round of the integration was applied. */
  changed(integrationId: string): void;
  /** A full collection of the integration finished (or the service started). */
  fullSyncDone(integrationId: string): void;
  /** Resolves once nothing is waiting, debounced or running. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

export interface RulesSchedulerOptions {
  debounceMs?: number;
  fullIntervalMs?: number;
  /** Called after each evaluation (tests, the demo). */
  onEvaluated?(result: EvaluationResult): void;
}

type Mode = 'full' | 'incremental';

export function startRulesScheduler(app: AppContext, options: RulesSchedulerOptions = {}): RulesScheduler {
  const debounceMs = options.debounceMs ?? app.config.rules.debounceMs;
  const fullIntervalMs = options.fullIntervalMs ?? app.config.rules.fullIntervalSeconds * 1000;
  const { logger } = app;
  const pending = new Map<string, Mode>();
  const timers = new Map<string, NodeJS.Timeout>();
  let running: Promise<void> | null = null;
  let closed = false;
  const executors = new RuleExecutors(app);

  const enqueue = (integrationId: string, mode: Mode) => {
    if (closed) return;
    if (pending.get(integrationId) !== 'full') pending.set(integrationId, mode);
    kick();
  };

  const evaluate = async (integrationId: string, mode: Mode) => {
    const info = await app.integrations.get(integrationId);
    if (!info?.enabled) return;
    options.onEvaluated?.(await evaluateForService(app, executors, info, mode));
  };

  const kick = () => {
    if (running || closed || pending.size === 0) return;
    running = (async () => {
      while (pending.size > 0 && !closed) {
        const [integrationId, mode] = pending.entries().next().value as [string, Mode];
        pending.delete(integrationId);
        try {
          await evaluate(integrationId, mode);
        } catch (err) {
          // Another process wrote newer results meanwhile: nothing is lost.
          if (err instanceof StaleEvaluationError) logger.debug({ integration: integrationId }, err.message);
          else
            logger.error(
              { integration: integrationId, err: (err as Error).message },
              `${mode} rule evaluation failed`,
            );
        }
      }
    })().finally(() => {
      running = null;
      kick();
    });
  };

  const interval = setInterval(() => {
    void app.integrations.list().then(
      (list) => {
        for (const i of list) if (i.enabled) enqueue(i.id, 'full');
      },
      (err: Error) =>
        logger.error({ err: err.message }, 'scheduled rule evaluation: cannot list integrations'),
    );
  }, fullIntervalMs);
  interval.unref();

  return {
    changed(integrationId) {
      if (closed) return;
      clearTimeout(timers.get(integrationId));
      const timer = setTimeout(() => {
        timers.delete(integrationId);
        enqueue(integrationId, 'incremental');
      }, debounceMs);
      timers.set(integrationId, timer);
    },
    fullSyncDone(integrationId) {
      clearTimeout(timers.get(integrationId));
      timers.delete(integrationId);
      enqueue(integrationId, 'full');
    },
    async idle() {
      while (!closed && (timers.size > 0 || pending.size > 0 || running)) {
        if (running) await running;
        else await new Promise((ok) => setTimeout(ok, Math.max(5, Math.min(debounceMs, 50))));
      }
    },
    async close() {
      closed = true;
      clearInterval(interval);
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
      pending.clear();
      await running;
      await executors.close();
    },
  };
}
