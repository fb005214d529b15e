/** Members (admin first, then licensed staff) and B2B guests, with their managers. */
import {
  CITIES,
  CONSUMER_DOMAINS,
  DEPARTMENTS,
  EXTERNAL_DOMAINS,
  FIRST_NAMES,
  JOB_TITLES,
  LAST_NAMES,
  MFA_METHODS,
  SKUS,
} from '../names.ts';
import type { Prng } from '../prng.ts';
import type { SimUser, Tenant } from '../tenant.ts';
import { DAY, iso } from '../time.ts';
import type { GenerateOptions } from './options.ts';

export interface Population {
  members: SimUser[];
  guests: SimUser[];
  /** Members with an index below this are the managers of the others. */
  nManagers: number;
}

/** What every user draws first, member or guest. */
interface UserBasics {
  k: number;
  first: string;
  last: string;
  id: string;
  created: number;
}

export function generateUsers(t: Tenant, rng: Prng, o: GenerateOptions): Population {
  const nUsers = Math.max(1, Math.floor(o.users));
  const nGuests = nUsers >= 5 ? Math.max(1, Math.round(nUsers * 0.1)) : 0;
  const nMembers = nUsers - nGuests;
  const ref = o.referenceMs;
  const usedUpns = new Set<string>();
  for (let k = 0; k < nUsers; k++) {
    const basics: UserBasics = {
      k,
      first: rng.pick(FIRST_NAMES),
      last: rng.pick(LAST_NAMES),
      id: rng.guid(),
      created: ref - rng.int(30, 2200) * DAY - rng.int(0, DAY - 1),
    };
    const u = k < nMembers ? memberUser(t, rng, ref, basics, usedUpns) : guestUser(t, rng, ref, basics);
    u.dirSeq = ++t.dirSeq;
    t.users.push(u);
    t.userById.set(u.id, u);
  }
  const nManagers = assignManagers(t, rng, nMembers);
  return { members: t.users.slice(0, nMembers), guests: t.users.slice(nMembers), nManagers };
}

/** A member: user 0 is the admin; the draws follow the object's property order. */
function memberUser(t: Tenant, rng: Prng, ref: number, b: UserBasics, usedUpns: Set<string>): SimUser {
  const { k, first, last, id, created } = b;
  let local = k === 0 ? 'admin' : `${first}.${last}`.toLowerCase();
  for (let n = 2; usedUpns.has(local); n++) local = `${first}.${last}${n}`.toLowerCase();
  usedUpns.add(local);
  const upn = `${local}@${t.domain}`;
  const dept = k === 0 ? 'IT' : rng.pick(DEPARTMENTS);
  const [city, country, cc] = rng.pick(CITIES);
  const lic = rng.next();
  const sku = lic < 0.03 && k > 0 ? null : lic < 0.55 ? SKUS.E3 : lic < 0.85 ? SKUS.E5 : SKUS.BP;
  const licences = sku
    ? [{ skuId: sku.skuId, disabledPlans: rng.chance(0.2) ? [...sku.plans] : [] }]
    : ([] as Array<{ skuId: string; disabledPlans: string[] }>);
  if (sku && rng.chance(0.3)) licences.push({ skuId: SKUS.P1.skuId, disabledPlans: [] });
  const neverSignedIn = rng.chance(0.05);
  const stale = rng.chance(0.1);
  const lastSign = neverSignedIn
    ? null
    : ref - (stale ? rng.int(100, 400) : rng.int(0, 60)) * DAY - rng.int(0, DAY);
  const mfaReg = k === 0 || rng.chance(0.8);
  return {
    idx: k,
    id,
    userPrincipalName: upn,
    displayName: k === 0 ? 'MOD Administrator' : `${first} ${last}`,
    givenName: k === 0 ? 'MOD' : first,
    surname: k === 0 ? 'Administrator' : last,
    mail: upn,
    otherMails: rng.chance(0.1) ? [`${first}.${last}@${rng.pick(CONSUMER_DOMAINS)}`.toLowerCase()] : [],
    accountEnabled: k === 0 ? true : !rng.chance(0.05),
    userType: 'Member',
    createdDateTime: iso(created),
    creationType: null,
    externalUserState: null,
    externalUserStateChangeDateTime: null,
    jobTitle: rng.pick(JOB_TITLES[dept]),
    department: dept,
    companyName: 'Contoso',
    officeLocation: `${city} ${rng.int(1, 40)}/${rng.int(1000, 4999)}`,
    employeeId: String(100000 + k),
    usageLocation: cc,
    city,
    country,
    businessPhones: rng.chance(0.8) ? [`+1 425 555 ${String(rng.int(0, 9999)).padStart(4, '0')}`] : [],
    mobilePhone: rng.chance(0.5) ? `+1 206 555 ${String(rng.int(0, 9999)).padStart(4, '0')}` : null,
    preferredLanguage: 'en-US',
    assignedLicenses: licences,
    assignedPlans: licences.flatMap((l) => [
      {
        assignedDateTime: iso(created + DAY),
        capabilityStatus: 'Enabled',
        service: 'SharePoint',
        servicePlanId: (Object.values(SKUS).find((s) => s.skuId === l.skuId) ?? SKUS.E3).plans[0],
      },
    ]),
    lastPasswordChangeDateTime: iso(ref - rng.int(1, 500) * DAY),
    managerIdx: -1,
    signIn:
      lastSign === null
        ? {
            lastSignInDateTime: null,
            lastNonInteractiveSignInDateTime: null,
            lastSuccessfulSignInDateTime: null,
          }
        : {
            lastSignInDateTime: iso(lastSign),
            lastNonInteractiveSignInDateTime: iso(lastSign + rng.int(0, 5) * 3600_000),
            lastSuccessfulSignInDateTime: iso(lastSign - (rng.chance(0.1) ? rng.int(1, 10) * DAY : 0)),
          },
    mfa: {
      isAdmin: k === 0 || rng.chance(0.03),
      isMfaRegistered: mfaReg,
      isMfaCapable: mfaReg,
      isSsprRegistered: mfaReg && rng.chance(0.7),
      isPasswordlessCapable: mfaReg && rng.chance(0.15),
      methodsRegistered: mfaReg
        ? [rng.pick(MFA_METHODS), 'email'].filter((m, i, a) => a.indexOf(m) === i)
        : [],
      lastUpdatedDateTime: iso(ref - rng.int(0, 30) * DAY),
    },
    driveIdx: -1,
    deleted: false,
    dirSeq: 0,
  };
}

function guestUser(t: Tenant, rng: Prng, ref: number, b: UserBasics): SimUser {
  const { k, first, last, id, created } = b;
  const dom = rng.chance(0.5) ? rng.pick(CONSUMER_DOMAINS) : rng.pick(EXTERNAL_DOMAINS);
  const email = `${first}.${last}${k}@${dom}`.toLowerCase();
  const accepted = rng.chance(0.7);
  const lastSign = accepted ? ref - rng.int(0, 200) * DAY : null;
  // Random draws in the same order as always, so a seed keeps giving the same tenant.
  const accountEnabled = !rng.chance(0.05);
  const stateChangedAt = iso(created + (accepted ? rng.int(0, 5) * DAY : 0));
  const mfaRegistered = accepted && rng.chance(0.3);
  const mfaUpdatedAt = iso(ref - rng.int(0, 30) * DAY);
  return newGuestUser(t, {
    idx: k,
    id,
    email,
    displayName: `${first} ${last} (${dom.split('.')[0]})`,
    accountEnabled,
    createdAt: iso(created),
    accepted,
    stateChangedAt,
    lastSignInAt: lastSign === null ? null : iso(lastSign),
    mfaRegistered,
    mfaUpdatedAt,
  });
}

/** A tree over the members: the first eighth are managers, and a manager comes before its reports. */
function assignManagers(t: Tenant, rng: Prng, nMembers: number): number {
  const nManagers = Math.max(1, Math.ceil(nMembers / 8));
  for (let k = 1; k < nMembers; k++) {
    if (rng.chance(0.92))
      t.users[k].managerIdx = k < nManagers ? rng.int(0, k - 1) : rng.int(0, nManagers - 1);
  }
  return nManagers;
}

/** A B2B guest as an invitation creates it (#EXT# UPN in the tenant's initial domain). */
export function newGuestUser(
  t: Tenant,
  g: {
    idx: number;
    id: string;
    email: string;
    displayName: string;
    accountEnabled: boolean;
    createdAt: string;
    accepted: boolean;
    stateChangedAt: string;
    lastSignInAt: string | null;
    mfaRegistered: boolean;
    mfaUpdatedAt: string;
  },
): SimUser {
  return {
    idx: g.idx,
    id: g.id,
    userPrincipalName: `${g.email.replace('@', '_')}#EXT#@${t.verifiedDomains[1]}`,
    displayName: g.displayName,
    givenName: null,
    surname: null,
    mail: g.email,
    otherMails: [g.email],
    accountEnabled: g.accountEnabled,
    userType: 'Guest',
    createdDateTime: g.createdAt,
    creationType: 'Invitation',
    externalUserState: g.accepted ? 'Accepted' : 'PendingAcceptance',
    externalUserStateChangeDateTime: g.stateChangedAt,
    jobTitle: null,
    department: null,
    companyName: null,
    officeLocation: null,
    employeeId: null,
    usageLocation: null,
    city: null,
    country: null,
    businessPhones: [],
    mobilePhone: null,
    preferredLanguage: null,
    assignedLicenses: [],
    assignedPlans: [],
    lastPasswordChangeDateTime: g.createdAt,
    managerIdx: -1,
    signIn: {
      lastSignInDateTime: g.lastSignInAt,
      lastNonInteractiveSignInDateTime: null,
      lastSuccessfulSignInDateTime: g.lastSignInAt,
    },
    mfa: {
      isAdmin: false,
      isMfaRegistered: g.mfaRegistered,
      isMfaCapable: g.mfaRegistered,
      isSsprRegistered: false,
      isPasswordlessCapable: false,
      methodsRegistered: g.mfaRegistered ? ['email'] : [],
      lastUpdatedDateTime: g.mfaUpdatedAt,
    },
    driveIdx: -1,
    deleted: false,
    dirSeq: 0,
  };
}
