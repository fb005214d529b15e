/** Deterministic tenant generator: the whole tenant is a pure function of the options below. */

import { generateDrives } from './generate/drives.ts';
import { generateGroups } from './generate/groups.ts';
import type { GenerateOptions } from './generate/options.ts';
import { generateRuleCases } from './generate/rule-cases.ts';
import { generateSharing } from './generate/sharing.ts';
import { generateUsers } from './generate/users.ts';
import { SimLabels } from './labels.ts';
import { Prng } from './prng.ts';
import { Tenant } from './tenant.ts';
import { generateSettings } from './tenant-settings.ts';

export type { GenerateOptions } from './generate/options.ts';
export { makeGrant, makeLink, pickRecipient } from './generate/sharing.ts';
export { newGuestUser } from './generate/users.ts';

export function defaultReferenceMs(): number {
  const now = new Date();
  return Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
}

/**
 * Users, groups and drives (with their items) draw from one PRNG stream in this order, each
 * drive's items from a stream of its own, the sharing from another, the rule cases from a
 * fourth: changing the order of
 * the steps, or of the draws inside one, changes every seed's tenant.
 */
export function generateTenant(o: GenerateOptions): Tenant {
  const rng = new Prng(o.seed, 1);
  const tenantId = new Prng(o.seed, 0).guid();
  const t = new Tenant({ tenantId, seed: o.seed, itemCapacity: Math.ceil(o.items * 1.02) + 1024 });
  const people = generateUsers(t, rng, o);
  generateGroups(t, rng, o.referenceMs, people);
  generateDrives(t, rng, o, people.members);
  generateSharing(t, o, people);
  generateRuleCases(t, o, people);
  // Tenant configuration and labels draw from no stream: the rest never depends on them.
  t.settings = generateSettings(o.sharepointSettings);
  t.labels = new SimLabels(o.seed, o.labels);
  return t;
}
