import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SimRuntime } from '../contracts.ts';
import { type AuditLog, CONTENT_TYPES, type ContentBlob } from './audit.ts';
import { managementError } from './errors.ts';
import type { EventOptions } from './options.ts';

interface FeedSubscription {
  contentType: string;
  status: 'enabled' | 'disabled';
}

type Params = { tenantId: string };
type Query = Record<string, string | undefined>;

const DAY_MS = 24 * 3_600_000;

/** Parses the API's time format: ISO 8601, UTC when no zone designator is given. */
function parseTime(raw: string): number {
  const text = /[zZ]|[+-]\d\d:?\d\d$/.test(raw) ? raw : `${raw}Z`;
  if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?/.test(raw)) return Number.NaN;
  return Date.parse(text);
}

function encodeCursor(blob: ContentBlob): string {
  return Buffer.from(`${blob.contentCreated}|${blob.contentId}`, 'utf8').toString('base64url');
}

function decodeCursor(raw: string): { created: number; id: string } | undefined {
  const text = Buffer.from(raw, 'base64url').toString('utf8');
  const sep = text.indexOf('|');
  if (sep < 0) return undefined;
  const created = Number(text.slice(0, sep));
  if (!Number.isFinite(created)) return undefined;
  return { created, id: text.slice(sep + 1) };
}

export class ManagementApi {
  readonly subscriptions = new Map<string, FeedSubscription>();
  private window = { minute: -1, count: 0 };
  requests = 0;
  throttled = 0;

  constructor(
    private readonly runtime: SimRuntime,
    private readonly options: EventOptions,
    private readonly audit: AuditLog,
  ) {}

  /** Auth, tenant, permission and rate limit; answers and returns false when the request must stop here. */
  private guard(req: FastifyRequest<{ Params: Params }>, reply: FastifyReply): boolean {
    if (!this.runtime.verifyBearer(req.headers.authorization, 'management')) {
      reply.header('www-authenticate', 'Bearer realm="manage.office.com"');
      managementError(401, 'AF10000', 'Authorization has been denied for this request.', reply);
      return false;
    }
    if (req.params.tenantId.toLowerCase() !== this.runtime.tenantId.toLowerCase()) {
      managementError(
        400,
        'AF20011',
        `Specified tenant ID (${req.params.tenantId}) does not exist in the system or has been deleted.`,
        reply,
      );
      return false;
    }
    if (this.runtime.isForbidden('audit')) {
      managementError(
        403,
        'AF10001',
        'The permission set () sent in the request does not include the expected permission ActivityFeed.Read.',
        reply,
      );
      return false;
    }
    const now = this.runtime.clock.now();
    const minute = Math.floor(now / 60_000);
    if (this.window.minute !== minute) this.window = { minute, count: 0 };
    this.window.count++;
    this.requests++;
    if (this.window.count > this.options.managementRateLimitPerMinute) {
      this.throttled++;
      reply.header('retry-after', String(Math.max(1, Math.ceil(((minute + 1) * 60_000 - now) / 1000))));
      managementError(
        429,
        'AF429',
        `Too many requests. Method=${req.method} ${req.routeOptions.url ?? req.url}, PublisherId=${this.runtime.tenantId}`,
        reply,
      );
      return false;
    }
    return true;
  }

  private contentType(query: Query, reply: FastifyReply): string | undefined {
    const contentType = query.contentType;
    if (!contentType) {
      managementError(400, 'AF20001', 'Missing parameter: contentType.', reply);
      return undefined;
    }
    const known = CONTENT_TYPES.find((c) => c.toLowerCase() === contentType.toLowerCase());
    if (!known) {
      managementError(400, 'AF20020', `The specified content type is not valid: ${contentType}.`, reply);
      return undefined;
    }
    return known;
  }

  register(app: FastifyInstance): void {
    const base = '/api/v1.0/:tenantId/activity/feed';

    app.post<{ Params: Params; Querystring: Query }>(`${base}/subscriptions/start`, async (req, reply) => {
      if (!this.guard(req, reply)) return reply;
      const contentType = this.contentType(req.query, reply);
      if (!contentType) return reply;
      const body = req.body as { webhook?: unknown } | undefined;
      if (body && typeof body === 'object' && body.webhook) {
        return managementError(
          400,
          'AF20021',
          'The webhook endpoint could not be validated. Webhooks are not simulated: poll subscriptions/content.',
          reply,
        );
      }
      const sub: FeedSubscription = { contentType, status: 'enabled' };
      this.subscriptions.set(contentType, sub);
      return reply.code(200).send({ contentType, status: sub.status, webhook: null });
    });

    app.post<{ Params: Params; Querystring: Query }>(`${base}/subscriptions/stop`, async (req, reply) => {
      if (!this.guard(req, reply)) return reply;
      const contentType = this.contentType(req.query, reply);
      if (!contentType) return reply;
      const sub = this.subscriptions.get(contentType);
      if (sub?.status !== 'enabled') {
        return managementError(400, 'AF20022', 'No subscription found for the specified content type', reply);
      }
      sub.status = 'disabled';
      return reply.code(200).send();
    });

    app.get<{ Params: Params }>(`${base}/subscriptions/list`, async (req, reply) => {
      if (!this.guard(req, reply)) return reply;
      return reply.send(
        [...this.subscriptions.values()].map((s) => ({
          contentType: s.contentType,
          status: s.status,
          webhook: null,
        })),
      );
    });

    app.get<{ Params: Params; Querystring: Query }>(`${base}/subscriptions/content`, async (req, reply) => {
      if (!this.guard(req, reply)) return reply;
      const contentType = this.contentType(req.query, reply);
      if (!contentType) return reply;
      if (this.subscriptions.get(contentType)?.status !== 'enabled') {
        return managementError(400, 'AF20022', 'No subscription found for the specified content type', reply);
      }
      const now = this.runtime.clock.now();
      const { startTime, endTime, nextPage } = req.query;
      let start = now - DAY_MS;
      let end = now;
      if ((startTime === undefined) !== (endTime === undefined)) {
        return managementError(
          400,
          'AF20055',
          'Start time and end time must both be specified (or both omitted) and must be less than or equal to 24 hours apart.',
          reply,
        );
      }
      if (startTime !== undefined && endTime !== undefined) {
        start = parseTime(startTime);
        end = parseTime(endTime);
        if (Number.isNaN(start) || Number.isNaN(end)) {
          return managementError(400, 'AF20054', 'Invalid syntax for startTime or endTime.', reply);
        }
        if (end <= start || end - start > DAY_MS) {
          return managementError(
            400,
            'AF20055',
            'Start time and end time must both be specified (or both omitted) and must be less than or equal to 24 hours apart, with the start time prior to end time.',
            reply,
          );
        }
        if (start < now - 7 * DAY_MS) {
          return managementError(400, 'AF20056', 'Start time cannot be more than 7 days in the past.', reply);
        }
      }
      let blobs = contentType === 'Audit.SharePoint' ? this.audit.available(start, end) : [];
      if (nextPage !== undefined) {
        const cursor = decodeCursor(nextPage);
        if (!cursor) return managementError(400, 'AF20031', `Invalid nextPage Input: ${nextPage}.`, reply);
        blobs = blobs.filter(
          (b) =>
            b.contentCreated > cursor.created ||
            (b.contentCreated === cursor.created && b.contentId > cursor.id),
        );
      }
      const page = blobs.slice(0, this.options.auditContentPageSize);
      const origin = `${req.protocol}://${req.headers.host ?? 'localhost'}`;
      const tenantPath = `${origin}/api/v1.0/${req.params.tenantId}/activity/feed`;
      if (blobs.length > page.length) {
        const next = new URL(`${tenantPath}/subscriptions/content`);
        next.searchParams.set('contentType', contentType);
        if (startTime !== undefined && endTime !== undefined) {
          next.searchParams.set('startTime', startTime);
          next.searchParams.set('endTime', endTime);
        }
        next.searchParams.set('nextPage', encodeCursor(page[page.length - 1]));
        reply.header('NextPageUri', next.toString());
      }
      return reply.send(
        page.map((b) => ({
          contentType: b.contentType,
          contentId: b.contentId,
          contentUri: `${tenantPath}/audit/${encodeURIComponent(b.contentId)}`,
          contentCreated: new Date(b.contentCreated).toISOString(),
          contentExpiration: new Date(b.contentExpiration).toISOString(),
        })),
      );
    });

    app.get<{ Params: Params & { contentId: string } }>(`${base}/audit/:contentId`, async (req, reply) => {
      if (!this.guard(req, reply)) return reply;
      const blob = this.audit.get(req.params.contentId);
      if (!blob) {
        return managementError(
          404,
          'AF20050',
          `The specified content (${req.params.contentId}) doesn't exist.`,
          reply,
        );
      }
      if (blob.contentExpiration <= this.runtime.clock.now()) {
        return managementError(
          400,
          'AF20051',
          `Content requested with the key ${req.params.contentId} has already expired. Content older than 7 days cannot be retrieved.`,
          reply,
        );
      }
      return reply.send(blob.events);
    });
  }
}
