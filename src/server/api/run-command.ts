import type { FastifyRequest } from 'fastify';
import type { CommandInput, CommandName, CommandOutput } from '../../app/commands/index.ts';
import { actorOf } from './access.ts';
import type { ApiDeps } from './deps.ts';
import { ApiError } from './errors.ts';

/** A command refusal, whichever side of a thread boundary it was thrown on (a CommandError or its plain copy). */
function isRefusal(err: unknown): err is { code: string; message: string; status: number } {
  if (!err || typeof err !== 'object') return false;
  const e = err as { name?: unknown; code?: unknown; status?: unknown };
  return e.name === 'CommandError' && typeof e.code === 'string' && typeof e.status === 'number';
}

/**
 * Runs a command as the request's principal; its refusals answer with their status and code
 * (`{ error: { code, message } }`), anything else is an internal error.
 */
export async function runCommand<N extends CommandName>(
  deps: ApiDeps,
  request: FastifyRequest,
  name: N,
  input: CommandInput<N>,
): Promise<CommandOutput<N>> {
  try {
    return await deps.commands.run(name, input, actorOf(request));
  } catch (err) {
    if (isRefusal(err)) throw new ApiError(err.status, err.code, err.message);
    throw err;
  }
}
