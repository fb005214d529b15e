/**
 * When would the first critical finding open? While a sync runs in another process, the
 * bench polls its SQLite store read-only (a second connection, as rule workers read) and
 * runs the item and permission rules (the sharing risk; tenant settings and quotas are known
 * from the directory alone) that can return a critical row (severity critical, or a per-row severity
 * override to critical) with their default parameters. The first poll that sees an alarm
 * row of severity critical is when an evaluation at that moment would open the finding.
 */
import { existsSync } from 'node:fs';
import { defaultParams, type RuleDefinition } from '../../src/rules/definition.ts';
import { loadBuiltinRules } from '../../src/rules/loader.ts';
import { openSqliteReadSession } from '../../src/rules/read-session.ts';
import { compileRule } from '../../src/rules/run-rule.ts';

export interface CriticalWatch {
  /** Stops polling; the wall-clock ms of the first poll that saw a critical alarm, or null. */
  stop(): Promise<number | null>;
}

/** Rules over items and permissions (the sharing risk) that can return a critical row. */
export function criticalRules(): RuleDefinition[] {
  return loadBuiltinRules().filter(
    (r) =>
      (r.resource_type === 'drive_item' || r.resource_type === 'permission') &&
      (r.severity === 'critical' || /'critical'/.test(r.sql)),
  );
}

export function watchCriticalFindings(dbFile: string, integrationId: string, everyMs = 200): CriticalWatch {
  const rules = criticalRules();
  let firstAt: number | null = null;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const poll = async () => {
    if (stopped || firstAt !== null || !existsSync(dbFile)) return;
    const at = Date.now();
    let session: ReturnType<typeof openSqliteReadSession> | undefined;
    try {
      session = openSqliteReadSession(dbFile);
      for (const rule of rules) {
        const { text, values } = compileRule(
          rule,
          { dialect: 'sqlite' },
          { integrationId, params: defaultParams(rule), now: new Date().toISOString() },
        );
        const rows = await session.all(text, values);
        if (rows.some((r) => r.status === 'alarm' && (r.severity ?? rule.severity) === 'critical')) {
          firstAt = at;
          return;
        }
      }
    } catch {
      // Not migrated yet, or busy: the next poll tries again.
    } finally {
      await session?.close().catch(() => undefined);
    }
  };
  const loop = () => {
    if (stopped) return;
    running = poll().finally(() => {
      if (!stopped && firstAt === null) timer = setTimeout(loop, everyMs);
    });
  };
  loop();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
      return firstAt;
    },
  };
}
