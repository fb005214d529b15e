import { createHash } from 'node:crypto';

/**
 * A remediation plan: exactly the permission removals a dry run lists. Executing a plan
 * touches these permissions and nothing else; each step is re-checked against the
 * inventory just before its call. The plan id is a digest of the steps, so `--plan <id>`
 * can insist that what runs is what the dry run showed.
 */

/** Which access to take away from an item: Anyone links only, or everything outside the tenant too. */
export type AccessScope = 'public' | 'external';

/** The audiences (grants.audience) each scope removes. */
export const AUDIENCES_OF: Record<AccessScope, readonly string[]> = {
  public: ['public'],
  external: ['public', 'external', 'guest'],
};

export interface RemovalStep {
  action: 'remove_permission';
  driveId: string;
  /** The item the permission is set on (where Graph accepts the DELETE). */
  itemId: string;
  permissionId: string;
  itemPath: string | null;
  /** anonymous, organization, users… for links; null for a direct grant. */
  linkScope: string | null;
  roles: string[];
  /** Who the permission reaches (e-mails / login names); empty for a link without recipients. */
  recipients: string[];
  /** Why it is in the plan, in a sentence. */
  reason: string;
}

export interface RemovalPlan {
  id: string;
  integrationId: string;
  /** What the plan was made for: `permission <id>`, `item <id>`, `finding <id>`, `rule <id>`. */
  origin: string;
  steps: RemovalStep[];
  /** Targets the plan could not act on, with why (an inherited-only grant, a finding about a drive…). */
  notes: string[];
}

export const stepKey = (s: Pick<RemovalStep, 'driveId' | 'itemId' | 'permissionId'>): string =>
  `${s.driveId}/${s.itemId}/${s.permissionId}`;

/** A short digest of the steps (order-independent): the plan id the dry run prints. */
export function planId(integrationId: string, steps: RemovalStep[]): string {
  const keys = steps.map(stepKey).sort();
  return createHash('sha256')
    .update(integrationId)
    .update('\n')
    .update(keys.join('\n'))
    .digest('hex')
    .slice(0, 12);
}

export function makePlan(
  integrationId: string,
  origin: string,
  steps: RemovalStep[],
  notes: string[] = [],
): RemovalPlan {
  const unique = new Map<string, RemovalStep>();
  for (const s of steps) if (!unique.has(stepKey(s))) unique.set(stepKey(s), s);
  const list = [...unique.values()].sort(
    (a, b) => (a.itemPath ?? '').localeCompare(b.itemPath ?? '') || stepKey(a).localeCompare(stepKey(b)),
  );
  return { id: planId(integrationId, list), integrationId, origin, steps: list, notes };
}

/** One line per step, as the dry run prints it. */
export function describeStep(s: RemovalStep): string {
  const what = s.linkScope
    ? `${s.linkScope} ${s.roles.includes('write') ? 'edit' : 'view'} link`
    : `grant (${s.roles.join(', ')})`;
  const who = s.recipients.length > 0 ? ` to ${s.recipients.join(', ')}` : '';
  return `remove ${what}${who} on ${s.itemPath ?? s.itemId} [${s.permissionId}] — ${s.reason}`;
}
