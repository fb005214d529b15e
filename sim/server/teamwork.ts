/**
 * POST /users/{id | userPrincipalName}/teamwork/sendActivityNotification (v1.0; application
 * permission TeamsActivity.Send): a Teams activity feed notification to one user. As Graph
 * documents it: the sending Entra app must have a Teams app (its id in the manifest's
 * webApplicationInfo) installed for the recipient, `activityType` must be declared in that
 * manifest (or the reserved `systemDefault`), a `text` topic needs a `webUrl`; 204 No Content.
 * Accepted notifications are kept in the tenant model and listed by the ground truth.
 */
import type { FastifyInstance } from 'fastify';
import type { Runtime } from '../runtime.ts';
import { findUser } from './directory.ts';
import { badRequest, GraphHttpError } from './errors.ts';

/** The activity types the simulated Teams app's manifest declares. */
export const DECLARED_ACTIVITY_TYPES = new Set(['reviewRequested', 'systemDefault']);

export function registerTeamworkRoutes(app: FastifyInstance, rt: Runtime): void {
  app.post('/v1.0/users/:userId/teamwork/sendActivityNotification', async (req, reply) => {
    const u = findUser(rt, (req.params as { userId: string }).userId);
    const body = req.body as Record<string, unknown> | undefined;
    if (!body || typeof body !== 'object') throw badRequest('The request body must be a JSON object.');
    const topic = body.topic as Record<string, unknown> | undefined;
    if (!topic || typeof topic.source !== 'string' || typeof topic.value !== 'string')
      throw badRequest('topic with source and value is required.');
    if (topic.source !== 'text' && topic.source !== 'entityUrl')
      throw badRequest(`Invalid topic source '${topic.source}'.`);
    if (topic.source === 'text' && typeof topic.webUrl !== 'string')
      throw badRequest('webUrl is required when the topic source is text.');
    const activityType = body.activityType;
    if (typeof activityType !== 'string' || !DECLARED_ACTIVITY_TYPES.has(activityType))
      throw badRequest(`Activity type '${String(activityType)}' is not declared in the app manifest.`);
    const preview = body.previewText as { content?: unknown } | undefined;
    const params = Array.isArray(body.templateParameters) ? body.templateParameters : [];
    if (rt.tenant.teamsAppMissing.has(u.id) || u.userType === 'Guest' || !u.accountEnabled)
      throw new GraphHttpError(
        403,
        'Forbidden',
        'The app is not installed for the recipient, so it cannot send them activity notifications.',
      );
    rt.tenant.activityNotifications.push({
      userId: u.id,
      activityType,
      topic: {
        source: topic.source,
        value: topic.value,
        webUrl: typeof topic.webUrl === 'string' ? topic.webUrl : null,
      },
      previewText: typeof preview?.content === 'string' ? preview.content : null,
      templateParameters: params.map((p: { name?: unknown; value?: unknown }) => ({
        name: String(p?.name ?? ''),
        value: String(p?.value ?? ''),
      })),
      at: new Date(rt.clock.now()).toISOString(),
    });
    return reply.code(204).send();
  });
}
