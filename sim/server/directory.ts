/** Directory endpoints: /users, /users/{id}, /users/{id}/manager, /users/delta, /groups, /groups/{id},
 *  /groups/{id}/transitiveMembers, /groups/delta, /organization, /reports/authenticationMethods/userRegistrationDetails. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { SimGroup, SimUser } from '../model/tenant.ts';
import type { Runtime } from '../runtime.ts';
import { directoryBadRequest, directoryNotFound, GraphHttpError } from './errors.ts';
import {
  checkOptions,
  decodeToken,
  encodeToken,
  link,
  matchFilter,
  opt,
  parseFilter,
  parseSelect,
  parseTop,
  type Query,
} from './odata.ts';

const USER_DEFAULT = [
  'businessPhones',
  'displayName',
  'givenName',
  'jobTitle',
  'mail',
  'mobilePhone',
  'officeLocation',
  'preferredLanguage',
  'surname',
  'userPrincipalName',
  'id',
];
const USER_PROPS = new Set([
  ...USER_DEFAULT,
  'accountEnabled',
  'userType',
  'createdDateTime',
  'creationType',
  'externalUserState',
  'externalUserStateChangeDateTime',
  'otherMails',
  'department',
  'companyName',
  'employeeId',
  'usageLocation',
  'city',
  'country',
  'assignedLicenses',
  'assignedPlans',
  'lastPasswordChangeDateTime',
  'signInActivity',
  'mailNickname',
  'onPremisesSyncEnabled',
  'proxyAddresses',
  'manager',
]);
const USER_FILTER_PROPS = new Set([
  'accountEnabled',
  'userType',
  'mail',
  'userPrincipalName',
  'displayName',
  'department',
  'jobTitle',
  'id',
  'externalUserState',
  'creationType',
  'givenName',
  'surname',
]);
const GROUP_DEFAULT = [
  'id',
  'createdDateTime',
  'description',
  'displayName',
  'groupTypes',
  'mail',
  'mailEnabled',
  'mailNickname',
  'securityEnabled',
  'visibility',
];
/** Documented v1.0 group properties that are served with $select (null / empty where the tenant has nothing). */
const GROUP_SELECTABLE = [
  ...GROUP_DEFAULT,
  'assignedLabels',
  'assignedLicenses',
  'classification',
  'deletedDateTime',
  'expirationDateTime',
  'hasMembersWithLicenseErrors',
  'isAssignableToRole',
  'licenseProcessingState',
  'membershipRule',
  'membershipRuleProcessingState',
  'onPremisesDomainName',
  'onPremisesLastSyncDateTime',
  'onPremisesNetBiosName',
  'onPremisesProvisioningErrors',
  'onPremisesSamAccountName',
  'onPremisesSecurityIdentifier',
  'onPremisesSyncEnabled',
  'preferredDataLocation',
  'preferredLanguage',
  'proxyAddresses',
  'renewedDateTime',
  'securityIdentifier',
  'serviceProvisioningErrors',
  'theme',
  'uniqueName',
];
const GROUP_PROPS = new Set([...GROUP_SELECTABLE, 'members']);
/** Exchange-backed properties: "supported only on the Get group API (GET /groups/{ID})". */
const GROUP_GET_ONLY = [
  'allowExternalSenders',
  'autoSubscribeNewMembers',
  'hideFromAddressLists',
  'hideFromOutlookClients',
  'isArchived',
];
const GROUP_GET_PROPS = new Set([...GROUP_PROPS, ...GROUP_GET_ONLY]);
const GROUP_FILTER_PROPS = new Set([
  'displayName',
  'mail',
  'mailEnabled',
  'securityEnabled',
  'id',
  'mailNickname',
]);

/** Entra's security identifier of a cloud object: S-1-12-1- and the object id as four 32-bit words. */
function securityIdentifier(id: string): string {
  const b = Buffer.from(id.replace(/-/g, ''), 'hex');
  if (b.length !== 16) return `S-1-12-1-${id}`;
  const bytes = Buffer.concat([
    b.subarray(0, 4).reverse(),
    b.subarray(4, 6).reverse(),
    b.subarray(6, 8).reverse(),
    b.subarray(8),
  ]);
  return `S-1-12-1-${[0, 4, 8, 12].map((o) => bytes.readUInt32LE(o)).join('-')}`;
}

export function groupProp(g: SimGroup, p: string): unknown {
  const unified = g.groupTypes.includes('Unified');
  switch (p) {
    case 'assignedLabels':
    case 'assignedLicenses':
    case 'onPremisesProvisioningErrors':
    case 'serviceProvisioningErrors':
      return [];
    case 'hasMembersWithLicenseErrors':
      return false;
    case 'proxyAddresses':
      return g.mail ? [`SMTP:${g.mail}`] : [];
    case 'renewedDateTime':
      return g.createdDateTime;
    case 'securityIdentifier':
      return securityIdentifier(g.id);
    case 'allowExternalSenders':
    case 'autoSubscribeNewMembers':
    case 'hideFromAddressLists':
    case 'hideFromOutlookClients':
    case 'isArchived':
      return unified ? false : null;
    default:
      return (g as unknown as Record<string, unknown>)[p] ?? null;
  }
}

export function userProp(_t: Runtime['tenant'], u: SimUser, p: string): unknown {
  switch (p) {
    case 'signInActivity':
      return u.signIn
        ? {
            lastSignInDateTime: u.signIn.lastSignInDateTime,
            lastSignInRequestId: u.signIn.lastSignInDateTime ? '00000000-0000-0000-0000-000000000000' : null,
            lastNonInteractiveSignInDateTime: u.signIn.lastNonInteractiveSignInDateTime,
            lastNonInteractiveSignInRequestId: null,
            lastSuccessfulSignInDateTime: u.signIn.lastSuccessfulSignInDateTime,
            lastSuccessfulSignInRequestId: null,
          }
        : null;
    case 'mailNickname':
      return u.userPrincipalName.split('@')[0];
    case 'onPremisesSyncEnabled':
      return null;
    case 'proxyAddresses':
      return u.mail && u.userType === 'Member' ? [`SMTP:${u.mail}`] : [];
    case 'manager':
      return undefined;
    default:
      return (u as unknown as Record<string, unknown>)[p] ?? null;
  }
}

function userJson(rt: Runtime, u: SimUser, select: string[] | null, expandManager: string[] | null | false) {
  const props = select ?? USER_DEFAULT;
  const o: Record<string, unknown> = {};
  if (!props.includes('id')) o.id = u.id;
  for (const p of props) if (p !== 'manager') o[p] = userProp(rt.tenant, u, p);
  if (expandManager !== false && u.managerIdx >= 0) {
    const m = rt.tenant.users[u.managerIdx];
    if (!m.deleted)
      o.manager = {
        '@odata.type': '#microsoft.graph.user',
        ...userJson(rt, m, expandManager ?? null, false),
      };
  }
  return o;
}

/** $expand=manager or manager($select=a,b) → the manager's select list (null = defaults), false = not expanded. */
function parseExpandManager(q: Query): string[] | null | false {
  const raw = opt(q, '$expand');
  if (raw === undefined) return false;
  const m = /^manager(?:\(\$select=([\w,]+)\))?$/i.exec(raw.trim());
  if (!m)
    throw directoryBadRequest(
      `Could not find a navigation property named '${raw.split('(')[0]}' to expand on type 'microsoft.graph.user', or it cannot be expanded.`,
    );
  if (!m[1]) return null;
  const names = m[1].split(',');
  for (const n of names)
    if (!USER_PROPS.has(n))
      throw directoryBadRequest(`Could not find a property named '${n}' on type 'microsoft.graph.user'.`);
  return names;
}

function baseQueryParams(q: Query, keep: string[]): Array<[string, string | undefined]> {
  return keep.map((k) => [k, opt(q, k)]);
}

export function findUser(rt: Runtime, idOrUpn: string): SimUser {
  const t = rt.tenant;
  let u = t.userById.get(idOrUpn);
  if (!u) {
    const lower = decodeURIComponent(idOrUpn).toLowerCase();
    u = t.users.find((x) => x.userPrincipalName.toLowerCase() === lower);
  }
  if (!u || u.deleted) throw directoryNotFound(idOrUpn);
  return u;
}

function paged<T>(all: T[], start: number, size: number) {
  return { page: all.slice(start, start + size), next: start + size < all.length ? start + size : -1 };
}

export function registerDirectoryRoutes(app: FastifyInstance, rt: Runtime): void {
  const t = rt.tenant;
  const ctx = (rel: string) => `${rt.graphBaseUrl}/$metadata#${rel}`;

  app.get('/v1.0/users', async (req: FastifyRequest) => {
    const q = req.query as Query;
    checkOptions(
      q,
      ['$select', '$top', '$filter', '$expand', '$skiptoken', '$orderby', '$count'],
      'directory',
    );
    const select = parseSelect(q, USER_PROPS, 'microsoft.graph.user', 'directory');
    const top = parseTop(q, 999, 'directory');
    const filter = parseFilter(q, USER_FILTER_PROPS, 'directory');
    const expand = parseExpandManager(q);
    const orderby = opt(q, '$orderby');
    if (orderby !== undefined && !/^(displayName|userPrincipalName)( asc| desc)?$/i.test(orderby.trim()))
      throw new GraphHttpError(400, 'Request_UnsupportedQuery', `Sorting not supported for '${orderby}'.`);
    const withSignIn = select?.includes('signInActivity') ?? false;
    const size = Math.min(top ?? 100, withSignIn ? 120 : 999);
    let users = t.users.filter((u) => !u.deleted && matchFilter(filter, (p) => userProp(t, u, p)));
    if (orderby) {
      const [field, dir] = orderby.trim().split(/\s+/);
      const key = field.toLowerCase() === 'displayname' ? 'displayName' : 'userPrincipalName';
      users = [...users].sort(
        (a, b) => a[key].localeCompare(b[key]) * (dir?.toLowerCase() === 'desc' ? -1 : 1),
      );
    }
    const skip = opt(q, '$skiptoken');
    const start = skip ? decodeToken<{ p: number }>(skip, 'directory').p : 0;
    const { page, next } = paged(users, start, size);
    const body: Record<string, unknown> = {
      '@odata.context': ctx(select ? `users(${select.join(',')})` : 'users'),
    };
    body.value = page.map((u) => userJson(rt, u, select, expand));
    if (next >= 0)
      body['@odata.nextLink'] = link(rt.graphBaseUrl, '/users', [
        ...baseQueryParams(q, ['$select', '$top', '$filter', '$expand', '$orderby']),
        ['$skiptoken', encodeToken({ p: next })],
      ]);
    return body;
  });

  app.get('/v1.0/users/delta', async (req) => {
    const q = req.query as Query;
    checkOptions(q, ['$select', '$top', '$skiptoken', '$deltatoken'], 'directory');
    const select = parseSelect(q, USER_PROPS, 'microsoft.graph.user', 'directory');
    const size = parseTop(q, 999, 'directory') ?? 100;
    const skip = opt(q, '$skiptoken');
    const delta = opt(q, '$deltatoken');
    let state: { from: number; to: number; p: number };
    if (skip) state = decodeToken(skip, 'directory');
    else if (delta === 'latest') {
      return {
        '@odata.context': ctx('users'),
        value: [],
        '@odata.deltaLink': link(rt.graphBaseUrl, '/users/delta', [
          ['$deltatoken', encodeToken({ s: t.dirSeq })],
        ]),
      };
    } else if (delta)
      state = { from: decodeToken<{ s: number }>(delta, 'directory', 'delta token').s, to: t.dirSeq, p: 0 };
    else state = { from: 0, to: t.dirSeq, p: 0 };
    const entries: Array<Record<string, unknown>> = [];
    for (const u of t.users)
      if (!u.deleted && u.dirSeq > state.from) entries.push(userJson(rt, u, select, false));
    if (state.from > 0)
      for (const r of t.removedUsers)
        if (r.seq > state.from) entries.push({ id: r.id, '@removed': { reason: 'deleted' } });
    const { page, next } = paged(entries, state.p, size);
    const body: Record<string, unknown> = { '@odata.context': ctx('users'), value: page };
    if (next >= 0)
      body['@odata.nextLink'] = link(rt.graphBaseUrl, '/users/delta', [
        ...baseQueryParams(q, ['$select', '$top']),
        ['$skiptoken', encodeToken({ ...state, p: next })],
      ]);
    else
      body['@odata.deltaLink'] = link(rt.graphBaseUrl, '/users/delta', [
        ...baseQueryParams(q, ['$select']),
        ['$deltatoken', encodeToken({ s: Math.max(state.to, state.from) })],
      ]);
    return body;
  });

  app.get('/v1.0/users/:userId', async (req) => {
    const q = req.query as Query;
    checkOptions(q, ['$select', '$expand'], 'directory');
    const select = parseSelect(q, USER_PROPS, 'microsoft.graph.user', 'directory');
    const expand = parseExpandManager(q);
    const u = findUser(rt, (req.params as { userId: string }).userId);
    return { '@odata.context': ctx('users/$entity'), ...userJson(rt, u, select, expand) };
  });

  app.get('/v1.0/users/:userId/manager', async (req) => {
    const q = req.query as Query;
    checkOptions(q, ['$select'], 'directory');
    const select = parseSelect(q, USER_PROPS, 'microsoft.graph.user', 'directory');
    const u = findUser(rt, (req.params as { userId: string }).userId);
    const m = u.managerIdx >= 0 ? t.users[u.managerIdx] : undefined;
    if (!m || m.deleted) throw directoryNotFound('manager');
    return {
      '@odata.context': ctx('directoryObjects/$entity'),
      '@odata.type': '#microsoft.graph.user',
      ...userJson(rt, m, select, false),
    };
  });

  const groupJson = (g: SimGroup, select: string[] | null) => {
    const o: Record<string, unknown> = { id: g.id };
    for (const p of select ?? GROUP_DEFAULT) if (p !== 'members') o[p] = groupProp(g, p);
    return o;
  };

  app.get('/v1.0/groups', async (req) => {
    const q = req.query as Query;
    checkOptions(q, ['$select', '$top', '$filter', '$skiptoken', '$count'], 'directory');
    const select = parseSelect(q, GROUP_PROPS, 'microsoft.graph.group', 'directory');
    const size = parseTop(q, 999, 'directory') ?? 100;
    const filter = parseFilter(q, GROUP_FILTER_PROPS, 'directory');
    const groups = t.groups.filter((g) =>
      matchFilter(filter, (p) => (g as unknown as Record<string, unknown>)[p]),
    );
    const skip = opt(q, '$skiptoken');
    const { page, next } = paged(groups, skip ? decodeToken<{ p: number }>(skip, 'directory').p : 0, size);
    const body: Record<string, unknown> = {
      '@odata.context': ctx('groups'),
      value: page.map((g) => groupJson(g, select)),
    };
    if (next >= 0)
      body['@odata.nextLink'] = link(rt.graphBaseUrl, '/groups', [
        ...baseQueryParams(q, ['$select', '$top', '$filter']),
        ['$skiptoken', encodeToken({ p: next })],
      ]);
    return body;
  });

  app.get('/v1.0/groups/delta', async (req) => {
    const q = req.query as Query;
    checkOptions(q, ['$select', '$top', '$skiptoken', '$deltatoken'], 'directory');
    const select = parseSelect(q, GROUP_PROPS, 'microsoft.graph.group', 'directory');
    const withMembers = !select || select.includes('members');
    const size = parseTop(q, 999, 'directory') ?? 100;
    const skip = opt(q, '$skiptoken');
    const delta = opt(q, '$deltatoken');
    let state: { from: number; to: number; p: number };
    if (skip) state = decodeToken(skip, 'directory');
    else if (delta === 'latest')
      return {
        '@odata.context': ctx('groups'),
        value: [],
        '@odata.deltaLink': link(rt.graphBaseUrl, '/groups/delta', [
          ['$deltatoken', encodeToken({ s: t.dirSeq })],
        ]),
      };
    else if (delta)
      state = { from: decodeToken<{ s: number }>(delta, 'directory', 'delta token').s, to: t.dirSeq, p: 0 };
    else state = { from: 0, to: t.dirSeq, p: 0 };
    const typeOf = (id: string) => (t.groupById.has(id) ? '#microsoft.graph.group' : '#microsoft.graph.user');
    const entries: Array<Record<string, unknown>> = [];
    for (const g of t.groups) {
      if (g.dirSeq <= state.from) continue;
      const o = groupJson(g, select?.filter((s) => s !== 'members') ?? null);
      if (withMembers) {
        o['members@delta'] =
          state.from === 0
            ? g.members
                .filter((m) => !t.userById.get(m)?.deleted)
                .map((m) => ({ '@odata.type': typeOf(m), id: m }))
            : g.memberLog
                .filter((e) => e.seq > state.from)
                .map((e) =>
                  e.removed
                    ? { '@odata.type': typeOf(e.id), id: e.id, '@removed': { reason: 'deleted' } }
                    : { '@odata.type': typeOf(e.id), id: e.id },
                );
      }
      entries.push(o);
    }
    const { page, next } = paged(entries, state.p, size);
    const body: Record<string, unknown> = { '@odata.context': ctx('groups'), value: page };
    if (next >= 0)
      body['@odata.nextLink'] = link(rt.graphBaseUrl, '/groups/delta', [
        ...baseQueryParams(q, ['$select', '$top']),
        ['$skiptoken', encodeToken({ ...state, p: next })],
      ]);
    else
      body['@odata.deltaLink'] = link(rt.graphBaseUrl, '/groups/delta', [
        ...baseQueryParams(q, ['$select']),
        ['$deltatoken', encodeToken({ s: Math.max(state.to, state.from) })],
      ]);
    return body;
  });

  const findGroup = (id: string) => {
    const g = t.groupById.get(id);
    if (!g) throw directoryNotFound(id);
    return g;
  };

  app.get('/v1.0/groups/:groupId', async (req) => {
    const q = req.query as Query;
    checkOptions(q, ['$select'], 'directory');
    const select = parseSelect(q, GROUP_GET_PROPS, 'microsoft.graph.group', 'directory');
    return {
      '@odata.context': ctx('groups/$entity'),
      ...groupJson(findGroup((req.params as { groupId: string }).groupId), select),
    };
  });

  for (const kind of ['transitiveMembers', 'members'] as const) {
    app.get(`/v1.0/groups/:groupId/${kind}`, async (req) => {
      const q = req.query as Query;
      checkOptions(q, ['$select', '$top', '$skiptoken', '$count'], 'directory');
      const select = parseSelect(
        q,
        new Set([...USER_PROPS, ...GROUP_PROPS]),
        'microsoft.graph.directoryObject',
        'directory',
      );
      const size = parseTop(q, 999, 'directory') ?? 100;
      const g = findGroup((req.params as { groupId: string }).groupId);
      const members =
        kind === 'transitiveMembers'
          ? t.transitiveMembers(g.idx)
          : g.members
              .filter((m) => !t.userById.get(m)?.deleted)
              .map((id) => ({ kind: t.groupById.has(id) ? ('group' as const) : ('user' as const), id }));
      const skip = opt(q, '$skiptoken');
      const { page, next } = paged(members, skip ? decodeToken<{ p: number }>(skip, 'directory').p : 0, size);
      const value = page.map((m) => {
        if (m.kind === 'group') {
          const sg = t.groupById.get(m.id)!;
          return {
            '@odata.type': '#microsoft.graph.group',
            ...groupJson(sg, select?.filter((s) => GROUP_PROPS.has(s) && s !== 'members') ?? null),
          };
        }
        const u = t.userById.get(m.id)!;
        return {
          '@odata.type': '#microsoft.graph.user',
          ...userJson(rt, u, select?.filter((s) => USER_PROPS.has(s)) ?? null, false),
        };
      });
      const body: Record<string, unknown> = { '@odata.context': ctx('directoryObjects'), value };
      if (next >= 0)
        body['@odata.nextLink'] = link(rt.graphBaseUrl, `/groups/${g.id}/${kind}`, [
          ...baseQueryParams(q, ['$select', '$top']),
          ['$skiptoken', encodeToken({ p: next })],
        ]);
      return body;
    });
  }

  // ---------- organization (Organization.Read.All) ----------

  const orgJson = (select: string[] | null) => {
    const created = t.users.map((u) => u.createdDateTime).sort()[0] ?? '2020-01-01T00:00:00Z';
    const all: Record<string, unknown> = {
      id: t.tenantId,
      deletedDateTime: null,
      businessPhones: ['+1 425 555 0100'],
      city: 'Redmond',
      country: null,
      countryLetterCode: 'US',
      createdDateTime: created,
      defaultUsageLocation: null,
      displayName: t.tenantName.charAt(0).toUpperCase() + t.tenantName.slice(1),
      isMultipleDataLocationsForServicesEnabled: null,
      marketingNotificationEmails: [],
      onPremisesLastSyncDateTime: null,
      onPremisesSyncEnabled: null,
      partnerTenantType: null,
      postalCode: '98052',
      preferredLanguage: 'en',
      securityComplianceNotificationMails: [],
      securityComplianceNotificationPhones: [],
      state: 'WA',
      street: '1 Contoso Way',
      technicalNotificationMails: [t.users[0]?.userPrincipalName ?? `admin@${t.domain}`],
      tenantType: 'AAD',
      directorySizeQuota: { used: t.users.length + t.groups.length, total: 300_000 },
      privacyProfile: null,
      assignedPlans: [],
      provisionedPlans: [],
      verifiedDomains: t.verifiedDomains.map((name, k) => ({
        capabilities: 'Email, OfficeCommunicationsOnline',
        isDefault: k === 0,
        isInitial: name.includes('.onmicrosoft.'),
        name,
        type: 'Managed',
      })),
    };
    if (!select) return all;
    const o: Record<string, unknown> = {};
    if (!select.includes('id')) o.id = t.tenantId;
    for (const p of select) o[p] = all[p];
    return o;
  };
  const ORG_PROPS = new Set(Object.keys(orgJson(null)));

  app.get('/v1.0/organization', async (req) => {
    const q = req.query as Query;
    checkOptions(q, ['$select'], 'directory');
    const select = parseSelect(q, ORG_PROPS, 'microsoft.graph.organization', 'directory');
    return {
      '@odata.context': ctx(select ? `organization(${select.join(',')})` : 'organization'),
      value: [orgJson(select)],
    };
  });

  app.get('/v1.0/organization/:orgId', async (req) => {
    const q = req.query as Query;
    checkOptions(q, ['$select'], 'directory');
    const select = parseSelect(q, ORG_PROPS, 'microsoft.graph.organization', 'directory');
    const id = (req.params as { orgId: string }).orgId;
    if (id.toLowerCase() !== t.tenantId.toLowerCase()) throw directoryNotFound(id);
    return { '@odata.context': ctx('organization/$entity'), ...orgJson(select) };
  });

  const MFA_FILTER = new Set([
    'isMfaRegistered',
    'isMfaCapable',
    'isAdmin',
    'userType',
    'userPrincipalName',
    'isSsprRegistered',
    'isPasswordlessCapable',
  ]);
  const mfaJson = (u: SimUser) => ({
    id: u.id,
    userPrincipalName: u.userPrincipalName,
    userDisplayName: u.displayName,
    userType: u.userType === 'Guest' ? 'guest' : 'member',
    isAdmin: u.mfa.isAdmin,
    isSsprRegistered: u.mfa.isSsprRegistered,
    isSsprEnabled: u.mfa.isSsprRegistered,
    isSsprCapable: u.mfa.isSsprRegistered,
    isMfaRegistered: u.mfa.isMfaRegistered,
    isMfaCapable: u.mfa.isMfaCapable,
    isPasswordlessCapable: u.mfa.isPasswordlessCapable,
    isSystemPreferredAuthenticationMethodEnabled: false,
    lastUpdatedDateTime: u.mfa.lastUpdatedDateTime,
    methodsRegistered: u.mfa.methodsRegistered,
    defaultMfaMethod: u.mfa.methodsRegistered[0] ?? 'none',
    userPreferredMethodForSecondaryAuthentication: u.mfa.methodsRegistered[0] ?? 'none',
    systemPreferredAuthenticationMethods: [],
  });
  app.get('/v1.0/reports/authenticationMethods/userRegistrationDetails', async (req) => {
    const q = req.query as Query;
    checkOptions(q, ['$filter', '$orderby', '$skiptoken'], 'directory');
    const filter = parseFilter(q, MFA_FILTER, 'directory');
    const orderby = opt(q, '$orderby');
    if (
      orderby !== undefined &&
      !/^(userPrincipalName|lastUpdatedDateTime|userDisplayName)( asc| desc)?$/i.test(orderby.trim())
    )
      throw directoryBadRequest(`Invalid $orderby '${orderby}'.`);
    let rows = t.users.filter((u) => !u.deleted && u.accountEnabled).map(mfaJson);
    rows = rows.filter((r) => matchFilter(filter, (p) => (r as Record<string, unknown>)[p]));
    if (orderby) {
      const [field, dir] = orderby.trim().split(/\s+/);
      const key = (['userPrincipalName', 'lastUpdatedDateTime', 'userDisplayName'].find(
        (k) => k.toLowerCase() === field.toLowerCase(),
      ) ?? 'userPrincipalName') as 'userPrincipalName';
      rows.sort(
        (a, b) => String(a[key]).localeCompare(String(b[key])) * (dir?.toLowerCase() === 'desc' ? -1 : 1),
      );
    }
    const skip = opt(q, '$skiptoken');
    const { page, next } = paged(rows, skip ? decodeToken<{ p: number }>(skip, 'directory').p : 0, 200);
    const body: Record<string, unknown> = {
      '@odata.context': ctx('reports/authenticationMethods/userRegistrationDetails'),
      value: page,
    };
    if (next >= 0)
      body['@odata.nextLink'] = link(
        rt.graphBaseUrl,
        '/reports/authenticationMethods/userRegistrationDetails',
        [...baseQueryParams(q, ['$filter', '$orderby']), ['$skiptoken', encodeToken({ p: next })]],
      );
    return body;
  });
}
