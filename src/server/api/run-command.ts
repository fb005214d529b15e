import type { FastifyRequest } from 'fastify';
import type { CommandInput, CommandName, CommandOutput } from '../../app/commands/index.ts';
import type { CommandActor } from '../../app/commands/types.ts';
import { actorOf } from './access.ts';
import type { ApiDeps } from './deps.ts';
import { ApiError } from './errors.ts';

/**
 * Runs a command for a request and turns its refusal (a CommandError here, a relayed
 * `{code, message, status}` on `serve`) into the API's error answer with the same status.
 */
export async function runCommand<N extends CommandName>(
  deps: ApiDeps,
  request: FastifyRequest,
  name: N,
  input: CommandInput<N>,
  actor: CommandActor = actorOf(request),
): Promise<CommandOutput<N>> {
  try {
    return await deps.commands.run(name, input, actor);
  } catch (err) {
    const e = err as { status?: unknown; code?: unknown; message?: unknown };
    if (!(err instanceof ApiError) && typeof e.status === 'number' && typeof e.code === 'string')
      throw new ApiError(e.status, e.code, String(e.message ?? e.code));
    throw err;
  }
}
