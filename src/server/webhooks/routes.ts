import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../../util/logger.ts';
import type { WebhookReceiver } from './receiver.ts';
import { SourceGuard } from './source-guard.ts';

export const NOTIFICATION_PATH = '/webhooks/graph';
export const LIFECYCLE_PATH = '/webhooks/graph/lifecycle';
/**
 * Default request body limit for notification POSTs: 256 KiB. A basic OneDrive or directory
 * notification is about 0.5 KB, so this holds a batch of several hundred; drivewarden asks
 * for no resource data, so nothing larger is legitimate.
 */
export const DEFAULT_WEBHOOK_BODY_LIMIT = 256 * 1024;
const MAX_VALIDATION_TOKEN = 8192;

export interface WebhookRoutesOptions {
  receiver: WebhookReceiver;
  logger: Logger;
  bodyLimit?: number;
  /** Refuses sources that send mostly rejected entries (default: a SourceGuard with its defaults). */
  sourceGuard?: SourceGuard;
}

/**
 * The Graph change-notification receiver: `POST /webhooks/graph` and
 * `POST /webhooks/graph/lifecycle`. Registered in its own encapsulated scope, so the raw
 * body parser and the validation hook apply to these routes only.
 */
export async function webhookRoutes(app: FastifyInstance, options: WebhookRoutesOptions): Promise<void> {
  const bodyLimit = options.bodyLimit ?? DEFAULT_WEBHOOK_BODY_LIMIT;
  const guard = options.sourceGuard ?? new SourceGuard();
  await app.register(async (scope) => {
    // A flooding source is refused before its body is read.
    scope.addHook('onRequest', async (request, reply) => {
      if (guard.blocked(request.ip))
        return reply
          .code(429)
          .header('retry-after', '60')
          .send({ error: 'rate_limited', message: 'too many rejected notifications from this address' });
    });

    // Any content type is read as raw bytes; this handler decides what is JSON.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_req, body, done) => done(null, body));

    // Validation handshake: answered before the body is read (Graph sends none).
    scope.addHook('onRequest', async (request, reply) => {
      const token = (request.query as Record<string, unknown> | undefined)?.validationToken;
      if (token === undefined) return;
      if (typeof token !== 'string' || token.length > MAX_VALIDATION_TOKEN) {
        return reply.code(400).send({ error: 'bad_request', message: 'validationToken must be one string' });
      }
      // The query parser has URL-decoded it already.
      return reply
        .code(200)
        .header('content-type', 'text/plain; charset=utf-8')
        .header('x-content-type-options', 'nosniff')
        .send(token);
    });

    const handle = async (request: FastifyRequest, reply: FastifyReply) => {
      const raw = request.body;
      if (!Buffer.isBuffer(raw) || raw.length === 0) {
        return reply
          .code(400)
          .send({ error: 'bad_request', message: 'expected a JSON body {"value":[...]}' });
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw.toString('utf8'));
      } catch {
        return reply.code(400).send({ error: 'bad_request', message: 'body is not valid JSON' });
      }
      const value = (parsed as { value?: unknown } | null)?.value;
      if (typeof parsed !== 'object' || parsed === null || !Array.isArray(value)) {
        return reply.code(400).send({
          error: 'bad_request',
          message: 'expected a JSON object with a "value" array of notifications',
        });
      }
      try {
        const result = await options.receiver.accept(value);
        guard.record(request.ip, result.rejected);
      } catch (err) {
        options.logger.error({ err }, 'webhook inbox unavailable, asking Graph to retry');
        return reply
          .code(503)
          .header('retry-after', '5')
          .send({ error: 'unavailable', message: 'inbox unavailable' });
      }
      return reply.code(202).send();
    };

    // Graph authenticates with the subscription's clientState, checked by the receiver.
    scope.post(NOTIFICATION_PATH, { config: { access: 'public' } }, handle);
    scope.post(LIFECYCLE_PATH, { config: { access: 'public' } }, handle);
  });
}
