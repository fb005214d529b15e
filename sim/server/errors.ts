/** Graph-shaped errors: `{"error":{"code","message","innerError":{"date","request-id","client-request-id"}}}`. */
import type { FastifyReply, FastifyRequest } from 'fastify';

export interface SimRequestState {
  requestId: string;
  clientRequestId: string;
  /** Set by the fault layer: cut the JSON body of this response. */
  truncate: boolean;
  /** malformedItem fault: corrupt one entry of the page's value. */
  /** malformedItem (a file) or malformedFolder: one entry of the page gets a wrong type. */
  malform?: boolean | 'folder';
  /** lostAnswer fault: destroy the socket instead of sending the answer. */
  loseAnswer?: boolean;
  /** Sub-request of a $batch (served through inject). */
  inBatch: boolean;
  resourceType: string;
  /** When the request arrived (ms), for the delta request log. */
  startedAt?: number;
  /** The drive a delta request is about. */
  driveId?: string;
  /** The delta answer carried a nextLink (the run goes on). */
  nextLink?: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    sim: SimRequestState;
  }
}

/** Thrown by handlers; the error handler turns it into the Graph error shape. */
export class GraphHttpError extends Error {
  readonly status: number;
  readonly code: string;
  readonly headers: Record<string, string>;
  constructor(status: number, code: string, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

export function errorBody(req: FastifyRequest, code: string, message: string) {
  return {
    error: {
      code,
      message,
      innerError: {
        date: new Date().toISOString().replace(/\.\d+Z$/, ''),
        'request-id': req.sim?.requestId ?? '',
        'client-request-id': req.sim?.clientRequestId ?? req.sim?.requestId ?? '',
      },
    },
  };
}

export function sendError(
  req: FastifyRequest,
  reply: FastifyReply,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
) {
  for (const [k, v] of Object.entries(headers)) reply.header(k, v);
  return reply
    .code(status)
    .type('application/json')
    .send(errorBody(req, code, message));
}

export const badRequest = (message: string, code = 'invalidRequest') =>
  new GraphHttpError(400, code, message);
export const directoryBadRequest = (message: string) =>
  new GraphHttpError(400, 'Request_BadRequest', message);
export const itemNotFound = (message = 'The resource could not be found.') =>
  new GraphHttpError(404, 'itemNotFound', message);
export const directoryNotFound = (id: string) =>
  new GraphHttpError(
    404,
    'Request_ResourceNotFound',
    `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
  );
