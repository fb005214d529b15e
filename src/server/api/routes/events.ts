import type { ApiDeps } from '../deps.ts';
import { LiveEvents } from '../live-events.ts';
import type { ZodApp } from '../zod-app.ts';

/**
 * `GET /events`: server-sent events for the web app's live updates (`finding`, `change`,
 * `changes`, `sync`, `alert`; `data:` is JSON). A comment every 15 s keeps proxies from
 * closing an idle stream.
 */
export async function eventsRoutes(app: ZodApp, deps: ApiDeps): Promise<void> {
  const live = new LiveEvents(deps.db, deps.logger, deps.liveEventsIntervalMs);
  app.addHook('onClose', async () => live.stop());
  app.get(
    '/events',
    {
      config: { access: 'viewer' },
      schema: { tags: ['live'], description: 'Server-sent events (text/event-stream)' },
    },
    async (request, reply) => {
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      const unsubscribe = await live.subscribe((event) => {
        res.write(`event: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`);
      });
      // Only now: everything appended after this comment is delivered (the cursors are read).
      res.write(': connected\n\n');
      const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
      keepAlive.unref();
      request.raw.once('close', () => {
        clearInterval(keepAlive);
        unsubscribe();
      });
    },
  );
}
