import type { FastifyRequest } from 'fastify';
import type { CommandInput, CommandName, CommandOutput } from '../../../../app/commands/index.ts';
import { CommandError } from '../../../../app/commands/types.ts';
import { actorOf } from '../../access.ts';
import type { ApiDeps } from '../../deps.ts';
import { ApiError } from '../../errors.ts';

/** Runs a command as the request's caller; a refusal answers with its status, code and message. */
export async function runCommand<N extends CommandName>(
  deps: ApiDeps,
  request: FastifyRequest,
  name: N,
  input: CommandInput<N>,
): Promise<CommandOutput<N>> {
  try {
    return await deps.commands.run(name, input, actorOf(request));
  } catch (err) {
    if (err instanceof CommandError) throw new ApiError(err.status, err.code, err.message);
    throw err;
  }
}
