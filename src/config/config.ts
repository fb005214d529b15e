import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';

/**
 * The whole configuration: one schema, read from `DW_*` environment variables and an
 * optional JSON file (`DW_CONFIG`). The environment wins over the file. Every invalid
 * value is reported at once, by the name the user wrote it under.
 */

const positiveInt = z.coerce.number().int().positive();
/** "true"/"false"/"1"/"0" from the environment, or a JSON boolean (z.coerce.boolean would read "false" as true). */
const flag = z.preprocess(
  (v) => (v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : v),
  z.boolean(),
);
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A comma-separated list from the environment, or a JSON array. */
const list = <T extends z.ZodType>(item: T) =>
  z.preprocess(
    (v) =>
      typeof v === 'string'
        ? v
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : v,
    z.array(item),
  );

/**
 * Single sign-on with Microsoft Entra ID (OpenID Connect, src/auth/sso.ts). The client secret
 * comes from DW_SSO_CLIENT_SECRET or a file (DW_SSO_CLIENT_SECRET_FILE), never the JSON file.
 * An Entra user signs in with the role their app roles (`roles` claim) or groups (`groups`
 * claim) map to; admin wins over viewer; no mapped role: refused.
 */
const ssoSchema = z
  .object({
    enabled: flag.default(false),
    /** The login authority (national clouds, the simulator's authorityUrl). */
    authority: z.string().url().default('https://login.microsoftonline.com'),
    /**
     * The tenant whose users sign in (its id), or `organizations` for a multi-tenant app
     * registration (then allowedTenants lists who may sign in; Microsoft's authority only).
     */
    tenant: z.string().min(1).optional(),
    clientId: z.string().min(1).optional(),
    clientSecret: z.string().min(1).optional(),
    /** A file holding the client secret (a mounted secret); read at start. */
    clientSecretFile: z.string().min(1).optional(),
    /** Tenant ids (`tid`) allowed to sign in; default: the tenant. */
    allowedTenants: list(z.string().regex(GUID, 'a tenant id (GUID)')).default([]),
    /** App role values (`roles` claim) that make an admin / a viewer. */
    adminRoles: list(z.string().min(1)).default(['drivewarden.admin']),
    viewerRoles: list(z.string().min(1)).default(['drivewarden.viewer']),
    /** Group object ids (`groups` claim) that make an admin / a viewer. */
    adminGroups: list(z.string().regex(GUID, 'a group object id (GUID)')).default([]),
    viewerGroups: list(z.string().regex(GUID, 'a group object id (GUID)')).default([]),
    /** Extra CA certificate (PEM file) to trust for the authority: the simulator, a TLS-inspecting proxy. */
    caFile: z.string().min(1).optional(),
  })
  .superRefine((sso, ctx) => {
    if (!sso.enabled) return;
    for (const key of ['tenant', 'clientId'] as const)
      if (!sso[key]) ctx.addIssue({ code: 'custom', path: [key], message: 'required when sso is enabled' });
    if (!sso.clientSecret && !sso.clientSecretFile)
      ctx.addIssue({
        code: 'custom',
        path: ['clientSecret'],
        message: 'required when sso is enabled: set DW_SSO_CLIENT_SECRET or DW_SSO_CLIENT_SECRET_FILE',
      });
    const multi = sso.tenant === 'organizations';
    if (sso.tenant && !multi && !GUID.test(sso.tenant))
      ctx.addIssue({ code: 'custom', path: ['tenant'], message: 'a tenant id (GUID) or "organizations"' });
    if (multi && sso.allowedTenants.length === 0)
      ctx.addIssue({
        code: 'custom',
        path: ['allowedTenants'],
        message: 'required with tenant "organizations": the tenant ids allowed to sign in',
      });
  })
  .default({
    enabled: false,
    authority: 'https://login.microsoftonline.com',
    allowedTenants: [],
    adminRoles: ['drivewarden.admin'],
    viewerRoles: ['drivewarden.viewer'],
    adminGroups: [],
    viewerGroups: [],
  });
const ssoDefaults = ssoSchema.parse(undefined);

const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/** An IP address or CIDR range (`10.0.0.0/8`, `::1/128`). */
function isAddressOrRange(entry: string): boolean {
  const [address, bits, extra] = entry.split('/');
  const family = isIP(address ?? '');
  if (!family || extra !== undefined) return false;
  if (bits === undefined) return true;
  const n = Number(bits);
  return /^\d+$/.test(bits) && n >= 0 && n <= (family === 4 ? 32 : 128);
}

/**
 * Outbound alert targets on private, loopback or link-local addresses: false (refused, the
 * default), true (allowed, except cloud-metadata addresses), or a list of addresses and
 * ranges allowed (the only way to allow a metadata address). From the environment: `true`,
 * `false` or a comma-separated list.
 */
const allowPrivateTargets = z.preprocess(
  (v) => {
    if (typeof v !== 'string') return v;
    const t = v.trim().toLowerCase();
    if (t === 'true' || t === '1') return true;
    if (t === 'false' || t === '0' || t === '') return false;
    return v
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
  },
  z.union([
    z.boolean(),
    z.array(z.string().refine(isAddressOrRange, 'must be an IP address or a CIDR range like 10.0.0.0/8')),
  ]),
);

const alertDefaults = {
  allowPrivateTargets: false,
  timeoutMs: 10_000,
  maxAttempts: 8,
  retryBaseMs: 2_000,
  retryMaxMs: 3_600_000,
  routeIntervalMs: 5_000,
  digestTopItems: 10,
  logRetentionDays: 30,
  postgresGapGraceMs: 60_000,
};

/** `server.trustProxy` as Fastify takes it: a flag, a hop count, or addresses/CIDRs. */
const trustProxy = z.preprocess(
  (v) => {
    if (typeof v !== 'string') return v;
    const t = v.trim().toLowerCase();
    if (t === 'true' || t === 'false') return t === 'true';
    if (/^\d+$/.test(t)) return Number(t);
    return t
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  },
  z.union([
    z.boolean(),
    z.number().int().min(1).max(16),
    z
      .array(z.string().regex(/^[0-9a-f.:]+(\/\d{1,3})?$/i, 'an IP address or CIDR'))
      .min(1, 'true, false, a hop count, or proxy addresses/CIDRs'),
  ]),
);

export const configSchema = z.object({
  dataDir: z.string().min(1),
  databaseUrl: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  logLevel: logLevel.default('info'),
  /** base64 of 32 bytes; when unset a key file is created in dataDir on first run. */
  secretKey: z
    .string()
    .refine((s) => Buffer.from(s, 'base64').length === 32, 'must be 32 bytes, base64-encoded')
    .optional(),
  /**
   * base64 of 32 bytes: the HMAC key of owners' review links; when unset `review-links.key` is
   * created in dataDir on first use. Set it on serve replicas that do not share a data directory.
   */
  reviewLinksKey: z
    .string()
    .refine((s) => Buffer.from(s, 'base64').length === 32, 'must be 32 bytes, base64-encoded')
    .optional(),
  server: z
    .object({
      host: z.string().default('127.0.0.1'),
      port: z.coerce.number().int().min(0).max(65535).default(8080),
      /** The https URL Graph can reach this server at; unset = no webhooks, polling only. */
      publicUrl: z.string().url().optional(),
      /**
       * Behind a load balancer: which proxies' X-Forwarded-For to believe, so the sign-in
       * limiter and the audit trail see the client's address rather than the balancer's.
       * `false` (default), `true` (any), a hop count, or proxy addresses/CIDRs (comma-separated).
       */
      trustProxy: trustProxy.default(false),
    })
    .default({ host: '127.0.0.1', port: 8080, trustProxy: false }),
  sync: z
    .object({
      /** Drives synced at once per integration. */
      concurrency: positiveInt.default(4),
      /** Safety-net delta poll of every drive, in seconds. */
      pollIntervalSeconds: positiveInt.default(900),
      /** Users and groups refresh, in seconds. */
      directoryIntervalSeconds: positiveInt.default(3600),
      /** Webhook notifications for one drive within this window become one delta run. */
      debounceMs: z.coerce.number().int().min(0).default(250),
    })
    .default({ concurrency: 4, pollIntervalSeconds: 900, directoryIntervalSeconds: 3600, debounceMs: 250 }),
  /** The job queue of PostgreSQL deployments (serve enqueues, workers run; see app/jobs.ts). */
  jobs: z
    .object({
      /** Seconds an active job may run before another worker may take it (its worker presumed dead). */
      leaseSeconds: positiveInt.default(900),
      /** How often expired leases are handed back (pg-boss maintenance), in seconds. */
      maintenanceIntervalSeconds: positiveInt.default(30),
    })
    .default({ leaseSeconds: 900, maintenanceIntervalSeconds: 30 }),
  graph: z
    .object({
      timeoutMs: positiveInt.default(60_000),
      maxRetries: z.coerce.number().int().min(0).default(8),
      /**
       * Per-tenant RU budget per minute the client paces itself to (docs/graph-behaviour.md: 1,200–6,000
       * by licence count). Unset = no pacing, only react to 429 / Retry-After.
       */
      ruBudgetPerMinute: positiveInt.optional(),
      /** Divides the pacing minute, to match a simulator run with --time-scale (benchmarks, demos). */
      timeScale: z.coerce.number().positive().default(1),
    })
    .default({ timeoutMs: 60_000, maxRetries: 8, timeScale: 1 }),
  /** The query console (`drivewarden query`, saved and example queries): what one query may take. */
  query: z
    .object({
      /** Rows returned at most (more are cut off and the result says so). */
      maxRows: positiveInt.default(10_000),
      /** Bytes of result values returned at most (more rows are cut off). */
      maxBytes: positiveInt.default(64 * 1024 * 1024),
      /** A query still running after this long is stopped. */
      timeoutMs: positiveInt.default(30_000),
      /** The process running a query is stopped when its memory (RSS) passes this many MB. */
      maxMemoryMb: z.coerce.number().int().min(128).default(512),
      /** PostgreSQL: run queries as this role (SET ROLE; docs/queries.md shows its grants). */
      pgRole: z
        .string()
        .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a plain lower-case PostgreSQL role name')
        .optional(),
    })
    .default({ maxRows: 10_000, maxBytes: 64 * 1024 * 1024, timeoutMs: 30_000, maxMemoryMb: 512 }),
  activity: z
    .object({
      /** Read the audit feed (Office 365 Management Activity API) at all. */
      enabled: flag.default(true),
      /** Audit events older than this are deleted. */
      retentionDays: positiveInt.default(90),
      /** The serve schedule reads the feed this often, in seconds. */
      intervalSeconds: positiveInt.default(300),
      /** Each round lists content again this far back (content arrives up to 12 h late). */
      lateHours: z.coerce.number().min(0).max(72).default(12),
      /** First round: how far back to list (the API keeps 7 days). */
      initialLookbackHours: z.coerce.number().positive().max(168).default(168),
      /** Requests per minute to the Management Activity API (its limit: 2,000 per tenant). */
      requestsPerMinute: positiveInt.max(2000).default(1800),
    })
    .default({
      enabled: true,
      retentionDays: 90,
      intervalSeconds: 300,
      lateHours: 12,
      initialLookbackHours: 168,
      requestsPerMinute: 1800,
    }),
  rules: z
    .object({
      /**
       * Directories of custom rule folders (each `<rule-id>/rule.yaml` + `rule.sql`), loaded
       * beside the built-in rules. DW_RULES_FOLDERS: comma-separated.
       */
      folders: z.preprocess(
        (v) =>
          typeof v === 'string'
            ? v
                .split(',')
                .map((s) => s.trim())
                .filter(Boolean)
            : v,
        z.array(z.string().min(1)).default([]),
      ),
      /** The service's scheduled full evaluation of every rule, in seconds. */
      fullIntervalSeconds: positiveInt.default(3600),
      /** Changes within this window after a sync round become one incremental evaluation (ms). */
      debounceMs: z.coerce.number().int().min(0).default(200),
      /** Rules a full evaluation runs at once (worker threads on SQLite, sessions on PostgreSQL). */
      workers: positiveInt.default(2),
    })
    .default({ folders: [], fullIntervalSeconds: 3600, debounceMs: 200, workers: 2 }),
  /**
   * "Connect with Microsoft": drivewarden's own multi-tenant app registration. A tenant admin
   * grants it consent (the admin-consent endpoint) and the integration is added with these
   * credentials. Unset clientId: the button is off. The secret comes from the environment
   * (DW_CONNECT_CLIENT_SECRET), never from the JSON file.
   */
  connect: z
    .object({
      clientId: z.string().min(1).optional(),
      clientSecret: z.string().min(1).optional(),
      /** The login authority (national clouds, the simulator's authorityUrl). */
      authority: z.string().url().default('https://login.microsoftonline.com'),
      /** Graph base URL of connected tenants (default Graph's; the simulator's graphBaseUrl). */
      graphBaseUrl: z.string().url().optional(),
      /** Office 365 Management API base URL of connected tenants. */
      managementBaseUrl: z.string().url().optional(),
      /** Extra CA certificate (PEM file) to trust: the simulator, a TLS-inspecting proxy. */
      caFile: z.string().min(1).optional(),
    })
    .default({ authority: 'https://login.microsoftonline.com' }),
  /** Sign-in to the web app and REST API (src/auth/). */
  auth: z
    .object({
      /**
       * The first admin's password when the store has no user yet (at least 12 characters);
       * unset: a random one-time password is printed once and must be changed at first sign-in.
       */
      adminPassword: z.string().min(12, 'must be at least 12 characters').optional(),
      /** A browser session ends this many hours after sign-in. */
      sessionHours: z.coerce
        .number()
        .positive()
        .max(24 * 30)
        .default(12),
      /**
       * The session cookie's Secure attribute: true/false, or unset for "when the request is
       * https" (set true behind a TLS-terminating proxy that does not forward the scheme).
       */
      secureCookie: flag.optional(),
      sso: ssoSchema,
    })
    .default({ sessionHours: 12, sso: ssoDefaults }),
  alerts: z
    .object({
      allowPrivateTargets: allowPrivateTargets.default(false),
      /** Base URL of the web app for links in alerts; default server.publicUrl. */
      webAppUrl: z.string().url().optional(),
      /** One delivery attempt (HTTP request, SMTP session) at most this long. */
      timeoutMs: positiveInt.default(alertDefaults.timeoutMs),
      /** Attempts before a delivery is dead-lettered. */
      maxAttempts: positiveInt.default(alertDefaults.maxAttempts),
      /** First retry delay; doubles per attempt with full jitter, up to retryMaxMs. */
      retryBaseMs: positiveInt.default(alertDefaults.retryBaseMs),
      retryMaxMs: positiveInt.default(alertDefaults.retryMaxMs),
      /** The service routes new events at least this often (also right after each sync). */
      routeIntervalMs: positiveInt.default(alertDefaults.routeIntervalMs),
      /** Items listed in a digest (the count covers every event). */
      digestTopItems: positiveInt.default(alertDefaults.digestTopItems),
      /** Delivered and dead-lettered outbox rows (the delivery log) are kept this long. */
      logRetentionDays: positiveInt.default(alertDefaults.logRetentionDays),
      /**
       * PostgreSQL only: ids of concurrent transactions can commit out of order. A missing id
       * (a gap) is waited for this long before the router passes it (a rollback leaves one).
       */
      postgresGapGraceMs: positiveInt.default(alertDefaults.postgresGapGraceMs),
    })
    .default(alertDefaults),
});

export type Config = z.infer<typeof configSchema>;

/** Environment variable → config path. */
export const ENV_NAMES: Record<string, string> = {
  DW_DATA_DIR: 'dataDir',
  DW_DATABASE_URL: 'databaseUrl',
  DW_LOG_LEVEL: 'logLevel',
  DW_SECRET_KEY: 'secretKey',
  DW_REVIEW_LINKS_KEY: 'reviewLinksKey',
  DW_HOST: 'server.host',
  DW_PORT: 'server.port',
  DW_PUBLIC_URL: 'server.publicUrl',
  DW_TRUST_PROXY: 'server.trustProxy',
  DW_SYNC_CONCURRENCY: 'sync.concurrency',
  DW_POLL_INTERVAL_SECONDS: 'sync.pollIntervalSeconds',
  DW_DIRECTORY_INTERVAL_SECONDS: 'sync.directoryIntervalSeconds',
  DW_WEBHOOK_DEBOUNCE_MS: 'sync.debounceMs',
  DW_JOB_LEASE_SECONDS: 'jobs.leaseSeconds',
  DW_JOB_MAINTENANCE_SECONDS: 'jobs.maintenanceIntervalSeconds',
  DW_GRAPH_TIMEOUT_MS: 'graph.timeoutMs',
  DW_GRAPH_MAX_RETRIES: 'graph.maxRetries',
  DW_GRAPH_RU_BUDGET: 'graph.ruBudgetPerMinute',
  DW_GRAPH_TIME_SCALE: 'graph.timeScale',
  DW_QUERY_MAX_ROWS: 'query.maxRows',
  DW_QUERY_MAX_BYTES: 'query.maxBytes',
  DW_QUERY_TIMEOUT_MS: 'query.timeoutMs',
  DW_QUERY_MAX_MEMORY_MB: 'query.maxMemoryMb',
  DW_QUERY_PG_ROLE: 'query.pgRole',
  DW_ACTIVITY_ENABLED: 'activity.enabled',
  DW_ACTIVITY_RETENTION_DAYS: 'activity.retentionDays',
  DW_ACTIVITY_INTERVAL_SECONDS: 'activity.intervalSeconds',
  DW_RULES_FOLDERS: 'rules.folders',
  DW_RULES_FULL_INTERVAL_SECONDS: 'rules.fullIntervalSeconds',
  DW_RULES_DEBOUNCE_MS: 'rules.debounceMs',
  DW_RULES_WORKERS: 'rules.workers',
  DW_ADMIN_PASSWORD: 'auth.adminPassword',
  DW_SESSION_HOURS: 'auth.sessionHours',
  DW_SECURE_COOKIE: 'auth.secureCookie',
  DW_SSO_ENABLED: 'auth.sso.enabled',
  DW_SSO_AUTHORITY: 'auth.sso.authority',
  DW_SSO_TENANT: 'auth.sso.tenant',
  DW_SSO_CLIENT_ID: 'auth.sso.clientId',
  DW_SSO_CLIENT_SECRET: 'auth.sso.clientSecret',
  DW_SSO_CLIENT_SECRET_FILE: 'auth.sso.clientSecretFile',
  DW_SSO_ALLOWED_TENANTS: 'auth.sso.allowedTenants',
  DW_SSO_ADMIN_ROLES: 'auth.sso.adminRoles',
  DW_SSO_VIEWER_ROLES: 'auth.sso.viewerRoles',
  DW_SSO_ADMIN_GROUPS: 'auth.sso.adminGroups',
  DW_SSO_VIEWER_GROUPS: 'auth.sso.viewerGroups',
  DW_SSO_CA_FILE: 'auth.sso.caFile',
  DW_ALERTS_ALLOW_PRIVATE_TARGETS: 'alerts.allowPrivateTargets',
  DW_WEB_APP_URL: 'alerts.webAppUrl',
  DW_CONNECT_CLIENT_ID: 'connect.clientId',
  DW_CONNECT_CLIENT_SECRET: 'connect.clientSecret',
  DW_CONNECT_AUTHORITY: 'connect.authority',
  DW_CONNECT_GRAPH_URL: 'connect.graphBaseUrl',
  DW_CONNECT_MANAGEMENT_URL: 'connect.managementBaseUrl',
  DW_CONNECT_CA_FILE: 'connect.caFile',
  DW_ALERTS_TIMEOUT_MS: 'alerts.timeoutMs',
  DW_ALERTS_MAX_ATTEMPTS: 'alerts.maxAttempts',
  DW_ALERTS_RETRY_BASE_MS: 'alerts.retryBaseMs',
  DW_ALERTS_RETRY_MAX_MS: 'alerts.retryMaxMs',
  DW_ALERTS_ROUTE_INTERVAL_MS: 'alerts.routeIntervalMs',
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]] = value;
}

/** The environment variable a value came from; an element of a list is named with its index. */
function envNameOf(where: Map<string, string>, path: PropertyKey[]): string | undefined {
  for (let n = path.length; n > 0; n--) {
    const name = where.get(path.slice(0, n).join('.'));
    if (name) return n === path.length ? name : `${name} (${path.slice(n).join('.')})`;
  }
  return undefined;
}

/** Loads and validates the configuration; throws ConfigError listing every problem. */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  overrides: Record<string, unknown> = {},
): Config {
  const problems: string[] = [];
  let input: Record<string, unknown> = {};
  const where = new Map<string, string>();
  if (env.DW_CONFIG) {
    try {
      input = JSON.parse(readFileSync(env.DW_CONFIG, 'utf8')) as Record<string, unknown>;
      if (typeof input !== 'object' || input === null || Array.isArray(input)) {
        throw new Error('the file must hold one JSON object');
      }
    } catch (err) {
      throw new ConfigError([`DW_CONFIG (${env.DW_CONFIG}): ${(err as Error).message}`]);
    }
    const connect = input.connect as Record<string, unknown> | undefined;
    if (connect && typeof connect === 'object' && connect.clientSecret !== undefined)
      problems.push(
        `connect.clientSecret (in ${env.DW_CONFIG}): secrets do not belong in the config file; set DW_CONNECT_CLIENT_SECRET`,
      );
    const sso = (input.auth as { sso?: Record<string, unknown> } | undefined)?.sso;
    if (sso && typeof sso === 'object' && sso.clientSecret !== undefined)
      problems.push(
        `auth.sso.clientSecret (in ${env.DW_CONFIG}): secrets do not belong in the config file; set DW_SSO_CLIENT_SECRET or DW_SSO_CLIENT_SECRET_FILE`,
      );
  }
  for (const [name, path] of Object.entries(ENV_NAMES)) {
    const value = env[name];
    if (value !== undefined && value !== '') {
      setPath(input, path, value);
      where.set(path, name);
    }
  }
  for (const [path, value] of Object.entries(overrides)) {
    if (value !== undefined) setPath(input, path, value);
  }
  if (input.dataDir === undefined) input.dataDir = join(homedir(), '.drivewarden');
  const parsed = configSchema.safeParse(input);
  if (!parsed.success || problems.length) {
    for (const issue of parsed.error?.issues ?? []) {
      const path = issue.path.join('.');
      const name = envNameOf(where, issue.path) ?? (env.DW_CONFIG ? `${path} (in ${env.DW_CONFIG})` : path);
      problems.push(`${name}: ${issue.message}`);
    }
    throw new ConfigError(problems);
  }
  const sso = parsed.data.auth.sso;
  if (sso.clientSecretFile && !sso.clientSecret) {
    try {
      sso.clientSecret = readFileSync(sso.clientSecretFile, 'utf8').trim();
    } catch (err) {
      throw new ConfigError([
        `auth.sso.clientSecretFile (${sso.clientSecretFile}): ${(err as Error).message}`,
      ]);
    }
    if (!sso.clientSecret)
      throw new ConfigError([`auth.sso.clientSecretFile (${sso.clientSecretFile}): empty`]);
  }
  return {
    ...parsed.data,
    dataDir: resolve(parsed.data.dataDir),
    rules: { ...parsed.data.rules, folders: parsed.data.rules.folders.map((f) => resolve(f)) },
  };
}
