import { parentPort, workerData } from 'node:worker_threads';
import type { RuleDefinition, RuleParams } from '../definition.ts';
import { openSqliteReadSession } from '../read-session.ts';
import { runRuleOnSession } from '../rule-runner.ts';

/**
 * A rule worker thread: runs one rule at a time on its own read-only SQLite connection
 * (one read transaction per rule, begun after the evaluation fixed its cursor bound) and
 * answers with the alarm and error rows and the counts.
 */

export interface RuleTask {
  id: number;
  rule: RuleDefinition;
  integrationId: string;
  params: RuleParams;
  now: string;
}

export type RuleTaskAnswer =
  | { id: number; ok: true; result: Awaited<ReturnType<typeof runRuleOnSession>> }
  | { id: number; ok: false; message: string };

const { file } = workerData as { file: string };

parentPort?.on('message', async (task: RuleTask) => {
  let answer: RuleTaskAnswer;
  try {
    const session = openSqliteReadSession(file);
    try {
      const result = await runRuleOnSession(session, task.rule, task);
      answer = { id: task.id, ok: true, result };
    } finally {
      await session.close();
    }
  } catch (err) {
    answer = { id: task.id, ok: false, message: (err as Error).message };
  }
  parentPort?.postMessage(answer);
});
