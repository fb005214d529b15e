import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Kysely } from 'kysely';
import { decideAndRemediate } from '../../app/remediate.ts';
import type { SyncContext } from '../../collect/context.ts';
import { ReviewLinkError } from '../../remediate/review-links.ts';
import { type Decision, itemsForLink } from '../../remediate/reviews.ts';
import type { Database } from '../../store/schema.ts';
import { answeredPage, refusedPage, reviewPage } from './page.ts';

/**
 * The owner's review page: `GET /review?t=<token>` lists that owner's items in that campaign,
 * `POST /review?t=<token>` (a form) records the decisions and removes what was revoked. The
 * token is the only credential: no account needed, nothing else reachable with it. Pages are
 * never cached and never leak the URL as a referrer.
 */

export interface ReviewRouteDeps {
  db: Kysely<Database>;
  /** The HMAC key the links were signed with. */
  key: Buffer;
  /** Runs `fn` with a collector context (Graph client, store) for the integration. */
  withContext<T>(integrationId: string, fn: (ctx: SyncContext) => Promise<T>): Promise<T>;
  now?: () => Date;
}

const HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
  'x-frame-options': 'DENY',
};

function send(reply: FastifyReply, status: number, html: string) {
  return reply.code(status).headers(HEADERS).send(html);
}

/** `d_<id>=keep|revoke`, `j_<id>=why` form fields → decisions (only the items answered). */
export function decisionsOf(form: Record<string, string>): Decision[] {
  const out: Decision[] = [];
  for (const [name, value] of Object.entries(form)) {
    const m = /^d_(\d+)$/.exec(name);
    if (!m) continue;
    if (value !== 'keep' && value !== 'revoke')
      throw new ReviewLinkError(`${name}: keep or revoke, not "${value}"`);
    const why = form[`j_${m[1]}`]?.trim();
    out.push({ itemId: Number(m[1]), decision: value, ...(why ? { justification: why.slice(0, 500) } : {}) });
  }
  if (out.length === 0) throw new ReviewLinkError('no decision in the form');
  return out;
}

/** The link's token (query `t`; a path segment would hit the router's parameter length limit). */
function tokenOf(query: unknown): string {
  const t = (query as { t?: unknown } | undefined)?.t;
  return typeof t === 'string' ? t : '';
}

export async function reviewRoutes(app: FastifyInstance, deps: ReviewRouteDeps): Promise<void> {
  const now = deps.now ?? (() => new Date());
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 64 * 1024 },
    (_req, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );

  // The signed link in the query is the credential (no account).
  app.get('/review', { config: { access: 'public' } }, async (req, reply) => {
    const token = tokenOf(req.query);
    try {
      const page = await itemsForLink(deps.db, deps.key, token, now());
      return send(reply, 200, reviewPage(page.owner, page.items));
    } catch (err) {
      if (err instanceof ReviewLinkError) return send(reply, 403, refusedPage(err.message));
      throw err;
    }
  });

  app.post('/review', { config: { access: 'public' } }, async (req, reply) => {
    const token = tokenOf(req.query);
    try {
      const decisions = decisionsOf((req.body ?? {}) as Record<string, string>);
      const page = await itemsForLink(deps.db, deps.key, token, now());
      const campaign = await deps.db
        .selectFrom('review_campaigns')
        .select('integration_id')
        .where('id', '=', page.campaignId)
        .executeTakeFirstOrThrow();
      const result = await deps.withContext(campaign.integration_id, (ctx) =>
        decideAndRemediate(ctx, deps.key, token, decisions, now()),
      );
      const revoked = (result.run?.outcomes ?? []).map((o) => ({
        path: o.step.itemPath ?? o.step.itemId,
        result:
          o.result === 'done' || o.result === 'already_gone' ? 'access removed' : `not removed (${o.result})`,
      }));
      return send(reply, 200, answeredPage(result.kept, revoked));
    } catch (err) {
      if (err instanceof ReviewLinkError) return send(reply, 403, refusedPage(err.message));
      throw err;
    }
  });
}
