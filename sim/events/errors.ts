import { randomUUID } from 'node:crypto';
import type { FastifyReply } from 'fastify';

/** Graph's error body: `{"error":{"code","message","innerError":{"date","request-id","client-request-id"}}}`. */
export function graphError(status: number, code: string, message: string, reply: FastifyReply): FastifyReply {
  const requestId = randomUUID();
  const clientRequestId = reply.request.headers['client-request-id'];
  return reply
    .code(status)
    .header('request-id', requestId)
    .header('content-type', 'application/json; charset=utf-8')
    .send({
      error: {
        code,
        message,
        innerError: {
          date: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
          'request-id': requestId,
          'client-request-id': typeof clientRequestId === 'string' ? clientRequestId : requestId,
        },
      },
    });
}

/** The Office 365 Management Activity API error body: `{"error":{"code":"AF…","message":"…"}}`. */
export function managementError(
  status: number,
  code: string,
  message: string,
  reply: FastifyReply,
): FastifyReply {
  return reply
    .code(status)
    .header('content-type', 'application/json; charset=utf-8')
    .send({ error: { code, message } });
}
