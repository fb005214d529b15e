import { GraphError } from '../graph/errors.ts';
import type { GraphClient } from '../graph/types.ts';

/**
 * A Teams activity feed notification to one person through Microsoft Graph
 * (`POST /users/{id | userPrincipalName}/teamwork/sendActivityNotification`, application
 * permission TeamsActivity.Send; 204 on success). Graph only delivers it when the drivewarden
 * Teams app (its manifest naming this Entra app in webApplicationInfo and declaring the
 * `reviewRequested` activity type) is installed for the recipient: see docs/architecture.md.
 */

export const REVIEW_ACTIVITY_TYPE = 'reviewRequested';

/** Teams cannot reach the person (no such user, the app not installed for them, no permission). */
export class TeamsUnreachable extends Error {}

export interface TeamsReviewNotice {
  /** The person's user principal name or id. */
  user: string;
  /** The topic line (plain text). */
  topic: string;
  /** Where selecting the notification goes: the review page. */
  webUrl: string;
  previewText: string;
  items: number;
}

export async function sendTeamsActivity(
  client: GraphClient,
  n: TeamsReviewNotice,
): Promise<{ status: number; requestId: string | null }> {
  try {
    const res = await client.request({
      method: 'POST',
      url: `/users/${encodeURIComponent(n.user)}/teamwork/sendActivityNotification`,
      resource: 'teamwork',
      body: {
        topic: { source: 'text', value: n.topic.slice(0, 150), webUrl: n.webUrl },
        activityType: REVIEW_ACTIVITY_TYPE,
        previewText: { content: n.previewText.slice(0, 150) },
        templateParameters: [{ name: 'count', value: String(n.items) }],
      },
    });
    return { status: res.status, requestId: res.requestId ?? null };
  } catch (err) {
    if (err instanceof GraphError && (err.status === 404 || err.status === 403))
      throw new TeamsUnreachable(
        err.status === 404
          ? `no user ${n.user} in the tenant`
          : `Teams refused (${err.code}): the drivewarden Teams app is not installed for ${n.user}, or TeamsActivity.Send is not granted`,
      );
    throw err;
  }
}
