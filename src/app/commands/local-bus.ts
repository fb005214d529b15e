import type { AppContext } from '../context.ts';
import { COMMANDS, type CommandInput, type CommandName, type CommandOutput } from './index.ts';
import { type CommandActor, type CommandDef, CommandError, type ServiceHooks } from './types.ts';

/** Runs commands by name on this process (the owner of the writable store). */
export interface CommandBus {
  run<N extends CommandName>(name: N, input: CommandInput<N>, actor: CommandActor): Promise<CommandOutput<N>>;
}

/** A serialisable command failure, as it crosses the thread boundary and reaches the API. */
export interface CommandFailure {
  code: string;
  message: string;
  status: number;
}

export function failureOf(err: unknown): CommandFailure {
  if (err instanceof CommandError) return { code: err.code, message: err.message, status: err.status };
  return { code: 'internal', message: 'internal error', status: 500 };
}

/** Hooks for processes without a running service (CLI, tests): nothing to wake, contexts built on demand. */
export function idleHooks(withSyncContext: ServiceHooks['withSyncContext']): ServiceHooks {
  return {
    changed: () => undefined,
    integrationAdded: () => undefined,
    integrationRemoved: () => undefined,
    withSyncContext,
  };
}

export function localCommandBus(app: AppContext, hooks: ServiceHooks): CommandBus {
  return {
    async run(name, input, actor) {
      const def = (COMMANDS as Record<string, CommandDef<unknown, unknown> | undefined>)[name];
      if (!def) throw new CommandError('unknown_command', `unknown command "${String(name)}"`, 404);
      if (def.role === 'admin' && actor.role !== 'admin')
        throw new CommandError('forbidden', `${String(name)} needs the admin role`, 403);
      const parsed = def.input.safeParse(input);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
        throw new CommandError('invalid_request', `${where}${issue?.message ?? 'invalid input'}`, 400);
      }
      return (await def.run({ app, hooks, actor }, parsed.data)) as never;
    },
  };
}
