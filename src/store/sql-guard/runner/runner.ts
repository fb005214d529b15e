import { fork } from 'node:child_process';
import { configSchema } from '../../../config/config.ts';
import { startingModule } from '../../../util/runtime-files.ts';
import { QueryError } from '../errors.ts';
import { type ChildMessage, MEMORY_MARKER, type QueryLimits, type RunRequest } from './protocol.ts';

/**
 * Runs one query in its own process (child.ts) and stops it from here: killed at the time
 * limit (PostgreSQL also has the statement timeout, so its own error comes first), and by
 * the process's watchdog past the memory limit. The rows come back over IPC.
 */

const BOOT = new URL('./boot.mjs', import.meta.url);
/** The process must say it started within this long (tsx compiles on a cold cache). */
const START_TIMEOUT_MS = 60_000;
/** PostgreSQL's statement timeout answers first; the kill is the backstop. */
const PG_KILL_GRACE_MS = 2_000;
const STDERR_TAIL = 4_096;

/** The limits when the config says nothing (config `query.*` defaults). */
export const DEFAULT_QUERY_LIMITS: QueryLimits = configSchema.shape.query.parse(undefined);

export type QueryRows = Extract<ChildMessage, { type: 'result' }>;

export function runInQueryProcess(request: RunRequest): Promise<QueryRows> {
  const { limits } = request;
  // The build forks the compiled child directly; the sources go through boot.mjs (tsx), or
  // the current build's child (the tests: startingModule says when).
  const child = fork(startingModule('./child.ts', import.meta.url, BOOT), [], {
    // Not the parent's flags (test runner, loaders): the JS heap sized to the memory limit.
    execArgv: [`--max-old-space-size=${limits.maxMemoryMb}`],
    serialization: 'advanced',
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_TAIL);
  });
  return new Promise<QueryRows>((resolve, reject) => {
    let outcome: QueryRows | QueryError | undefined;
    let timer = setTimeout(
      () => stop(new QueryError('failed', 'the query process did not start')),
      START_TIMEOUT_MS,
    );
    const stop = (error: QueryError) => {
      outcome ??= error;
      child.kill('SIGKILL');
    };
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'started') {
        clearTimeout(timer);
        const grace = request.target.databaseUrl ? PG_KILL_GRACE_MS : 0;
        timer = setTimeout(() => stop(timeoutError(limits.timeoutMs)), limits.timeoutMs + grace);
      } else if (message.type === 'result') outcome ??= message;
      else
        outcome ??=
          message.kind === 'timeout'
            ? timeoutError(limits.timeoutMs)
            : new QueryError(message.kind, message.message);
    });
    child.once('error', (err) => stop(new QueryError('failed', `the query process failed: ${err.message}`)));
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (outcome instanceof QueryError) reject(outcome);
      else if (outcome) resolve(outcome);
      else reject(exitError(code, signal, stderr, limits.maxMemoryMb));
    });
    child.send(request);
  });
}

function timeoutError(timeoutMs: number): QueryError {
  return new QueryError('timeout', `stopped: the query ran longer than ${timeoutMs} ms (query.timeoutMs)`);
}

function exitError(
  code: number | null,
  signal: string | null,
  stderr: string,
  maxMemoryMb: number,
): QueryError {
  if (
    stderr.includes(MEMORY_MARKER) ||
    /heap out of memory|Allocation failed|ERR_STRING_TOO_LONG|ERR_BUFFER_TOO_LARGE/i.test(stderr)
  )
    return new QueryError(
      'memory',
      `stopped: the query used more than ${maxMemoryMb} MB of memory (query.maxMemoryMb)`,
    );
  const last = stderr.trim().split('\n').slice(-3).join(' | ');
  return new QueryError(
    'failed',
    `the query process ended without an answer (${signal ?? `exit code ${code}`})${last ? `: ${last}` : ''}`,
  );
}
