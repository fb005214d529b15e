import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Kysely } from 'kysely';
import type { ReviewAnswer } from '../../app/remediate.ts';
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
  /** Read access is enough: the page reads, `decide` writes (on `serve`, a command). */
  db: Kysely<Database>;
  /** The HMAC key the links were signed with. */
  key: Buffer;
  /** Records the decisions of the link's owner and removes what was revoked (answerReview). */
  decide(token: string, decisions: Decision[]): Promise<Pick<ReviewAnswer, 'kept' | 'revoked'>>;
  now?: () => Date;
}

/** A refusal of the link or of the form, thrown here or by the command that decided. */
function refusalOf(err: unknown): { status: number; message: string } | null {
  if (err instanceof ReviewLinkError) return { status: 403, message: err.message };
  // The command's refusal: a CommandError here, an ApiError once relayed from the main thread.
  const e = err as { code?: unknown; message?: unknown } | null;
  if (typeof e?.code === 'string' && typeof e.message === 'string') {
    if (e.code === 'review_link_refused') return { status: 403, message: e.message };
    if (e.code === 'invalid_request') return { status: 400, message: e.message };
  }
  return null;
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
      const refused = refusalOf(err);
      if (refused) return send(reply, refused.status, refusedPage(refused.message));
      throw err;
    }
  });

  app.post('/review', { config: { access: 'public' } }, async (req, reply) => {
    const token = tokenOf(req.query);
    try {
      const decisions = decisionsOf((req.body ?? {}) as Record<string, string>);
      // Checked here first: a bad link is refused without a round trip to the store's owner.
      await itemsForLink(deps.db, deps.key, token, now());
      const result = await deps.decide(token, decisions);
      return send(reply, 200, answeredPage(result.kept, result.revoked));
    } catch (err) {
      const refused = refusalOf(err);
      if (refused) return send(reply, refused.status, refusedPage(refused.message));
      throw err;
    }
  });
}
