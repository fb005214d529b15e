import type { CommandActor } from '../../app/commands/types.ts';
import { reviewLinkKey } from '../../app/review-key.ts';
import type { ApiDeps } from '../api/deps.ts';
import type { ReviewRouteDeps } from './routes.ts';

/** Who decides through the review page: the link's owner, named in the trail as `review:<owner>`. */
const REVIEW_LINK_ACTOR: CommandActor = { userId: 'review-link', username: 'review-link', role: 'viewer' };

/**
 * The review page on the API's deps: the page reads through the API's (read-only) db, the
 * decisions go to the store's owner as the `remediation.review-decide` command. The key is
 * read from the data directory by the same function every process uses (never sent around).
 */
export function apiReviewDeps(api: ApiDeps): ReviewRouteDeps {
  return {
    db: api.db,
    key: reviewLinkKey(api.config.dataDir, api.config.reviewLinksKey),
    decide: (token, decisions) =>
      api.commands.run('remediation.review-decide', { token, decisions }, REVIEW_LINK_ACTOR),
    now: api.now,
  };
}
