import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { CommandActor } from '../../../app/commands/types.ts';
import { SSO_STATE_TTL_MS } from '../../../auth/sso.ts';
import type { ApiDeps } from '../deps.ts';
import type { ZodApp } from '../zod-app.ts';

/**
 * Sign-in with Microsoft Entra ID (mounted under /api/v1; src/auth/sso.ts does the protocol).
 *
 * Cookies across the round trip. The browser comes back from Microsoft on a navigation that
 * started on another site, so a SameSite=Strict cookie is not sent with the callback. The
 * sign-in's binding cookie (`dw_sso`) is therefore SameSite=Lax (sent on a top-level GET
 * from another site, never on a cross-site POST or subrequest), HttpOnly, limited to the
 * callback's path and to ten minutes, cleared by the callback; it carries no session, only
 * the secret the state, nonce and PKCE verifier derive from, so a callback URL replayed in
 * another browser, or a second time, is refused. The session cookie set by the callback is
 * the same SameSite=Strict cookie a password sign-in sets; the callback answers with a page
 * that moves on to the web app from our own origin (a same-site navigation, so that request
 * already carries it) rather than a redirect that would still count as the cross-site one.
 */

export const SSO_COOKIE = 'dw_sso';
/** The callback's path (the routes are mounted under /api/v1). */
const COOKIE_PATH = '/api/v1/auth/sso/callback';
/** Whoever brings the answer back is anonymous until the command checked it. */
const ANONYMOUS: CommandActor = { userId: '', username: 'sso-callback', role: 'viewer' };

function callbackUrl(deps: ApiDeps, request: FastifyRequest): string {
  const base = deps.config.server.publicUrl ?? `${request.protocol}://${request.host}`;
  return `${base.replace(/\/+$/, '')}${COOKIE_PATH}`;
}

/** Back to the sign-in page with a message it shows. */
function backToSignIn(reply: FastifyReply, message: string): FastifyReply {
  return reply.redirect(`/sign-in?${new URLSearchParams({ sso_error: message.slice(0, 500) })}`, 302);
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A page that continues to `to` from our own origin (meta refresh: no script, fits the CSP). */
function continuePage(to: string): string {
  const href = escapeHtml(to);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=${href}"><title>Signed in</title></head><body><p>Signed in. <a href="${href}">Continue to drivewarden</a></p></body></html>`;
}

export async function ssoRoutes(
  app: ZodApp,
  deps: ApiDeps,
  setSessionCookie: (
    deps: ApiDeps,
    request: FastifyRequest,
    reply: FastifyReply,
    session: { token: string; expiresAt: string },
  ) => void,
): Promise<void> {
  const tags = ['auth'];
  const secure = (request: FastifyRequest) => deps.config.auth.secureCookie ?? request.protocol === 'https';
  const failureMessage = (err: unknown) => {
    const e = err as { status?: number; message?: string };
    if (typeof e.status === 'number' && e.status < 500) return String(e.message);
    if (e.status === 502) return String(e.message);
    return undefined;
  };

  app.get(
    '/auth/sso/start',
    {
      config: { access: 'public' },
      schema: {
        tags,
        summary: 'Sign in with Microsoft: redirects the browser to Entra ID',
        description:
          'Sets a short-lived HttpOnly cookie binding the sign-in to this browser; Microsoft sends the browser back to /api/v1/auth/sso/callback.',
      },
    },
    async (request, reply) => {
      if (!deps.config.auth.sso.enabled)
        return backToSignIn(reply, 'sign-in with Microsoft is not configured');
      try {
        const started = await deps.commands.run(
          'auth.ssoStart',
          { redirectUri: callbackUrl(deps, request) },
          ANONYMOUS,
        );
        reply.setCookie(SSO_COOKIE, started.binding, {
          httpOnly: true,
          sameSite: 'lax',
          path: COOKIE_PATH,
          secure: secure(request),
          maxAge: SSO_STATE_TTL_MS / 1000,
        });
        reply.header('cache-control', 'no-store');
        return reply.redirect(started.redirectUrl, 302);
      } catch (err) {
        const message = failureMessage(err);
        if (message) return backToSignIn(reply, message);
        throw err;
      }
    },
  );

  app.get(
    '/auth/sso/callback',
    {
      // Public on purpose: the answer comes from Microsoft's redirect, before any session.
      // The binding cookie and the single-use state are the credential.
      config: { access: 'public' },
      schema: {
        tags,
        summary: "Microsoft's answer: signs in (the session cookie), then on to the web app",
        querystring: z
          .object({
            code: z.string().max(4000).optional(),
            state: z.string().max(200).optional(),
            error: z.string().max(200).optional(),
            error_description: z.string().max(2000).optional(),
          })
          .passthrough(),
      },
    },
    async (request, reply) => {
      const binding = request.cookies?.[SSO_COOKIE];
      reply.clearCookie(SSO_COOKIE, { path: COOKIE_PATH, httpOnly: true, sameSite: 'lax' });
      reply.header('cache-control', 'no-store');
      if (!binding)
        return backToSignIn(
          reply,
          'this sign-in did not start in this browser, or took longer than ten minutes: sign in again',
        );
      const query = new URL(request.url, 'http://x').search;
      try {
        const signedIn = await deps.commands.run(
          'auth.ssoComplete',
          {
            binding,
            callbackUrl: `${callbackUrl(deps, request)}${query}`,
            userAgent: request.headers['user-agent'] ?? null,
            ip: request.ip,
          },
          ANONYMOUS,
        );
        setSessionCookie(deps, request, reply, signedIn);
        return reply.type('text/html; charset=utf-8').send(continuePage('/'));
      } catch (err) {
        const message = failureMessage(err);
        if (message) {
          deps.logger.warn(
            { code: (err as { code?: string }).code, message },
            'sign-in with Microsoft refused',
          );
          return backToSignIn(reply, message);
        }
        throw err;
      }
    },
  );
}
