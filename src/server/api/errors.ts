import type { FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { CommandError } from '../../app/commands/types.ts';

/**
 * One error shape for every API answer that is not a success:
 * `{ "error": { "code": "not_found", "message": "…", "requestId": "req-1" } }`.
 * `code` is stable (clients branch on it); `message` names what was wrong, for people.
 */
export type ApiErrorCode =
  | 'invalid_request'
  | 'unauthorized'
  | 'forbidden'
  | 'csrf'
  | 'not_found'
  | 'conflict'
  | 'rate_limited'
  | 'payload_too_large'
  | 'upstream'
  | 'unavailable'
  | 'internal'
  | (string & {});

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const notFound = (what: string) => new ApiError(404, 'not_found', `${what} not found`);

export const errorSchema = z
  .object({
    error: z.object({
      code: z.string().describe('Stable machine-readable code'),
      message: z.string().describe('What was wrong, for people'),
      requestId: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .describe('Error');

/** Installs the error and not-found handlers on the app (every route, API or not). */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | ApiError, request, reply) => {
    const send = (status: number, code: string, message: string, details?: unknown) =>
      reply.code(status).send({
        error: {
          code,
          message,
          requestId: String(request.id),
          ...(details === undefined ? {} : { details }),
        },
      });
    if (err instanceof ApiError) return send(err.status, err.code, err.message, err.details);
    // A command's refusal (in-process bus; the thread bus turns them into ApiErrors).
    if (err instanceof CommandError) return send(err.status, err.code, err.message);
    if (hasZodFastifySchemaValidationErrors(err)) {
      const issues = err.validation.map((v) => ({
        where: `${err.validationContext ?? 'request'}${v.instancePath.replaceAll('/', '.')}`,
        message: v.message,
      }));
      const first = issues[0];
      return send(
        400,
        'invalid_request',
        first ? `${first.where}: ${first.message}` : 'invalid request',
        issues,
      );
    }
    const status = typeof err.statusCode === 'number' ? err.statusCode : 500;
    if (status === 429) return send(429, 'rate_limited', err.message || 'too many requests');
    if (status === 413) return send(413, 'payload_too_large', 'request body too large');
    if (status >= 400 && status < 500) return send(status, 'invalid_request', err.message);
    request.log.error({ err, url: request.url }, 'request failed');
    return send(500, 'internal', 'internal error');
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({
      error: {
        code: 'not_found',
        message: `no route ${request.method} ${request.url.split('?')[0]}`,
        requestId: String(request.id),
      },
    }),
  );
}
