/**
 * Test helpers for alerts (not product code): sample messages, rows written as the rules
 * engine and the collector write them (the table contracts of finding_events, findings,
 * changes and the inventory), and the alerts machinery wired over a test store.
 */
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { quietLogger } from '../../test/support/logger.ts';
import { AlertOutbox } from '../queue/alert-outbox.ts';
import { encodeValue } from '../store/codec.ts';
import type { Database } from '../store/schema.ts';
import type { Store } from '../store/store.ts';
import { SecretBox } from '../util/secret-box.ts';
import { ChannelRepository } from './channel-repo.ts';
import { DeliveryWorker, type WorkerOptions } from './delivery-worker.ts';
import { AppLinks } from './links.ts';
import type { AlertItem, AlertMessage } from './message.ts';
import { type AllowPrivateTargets, OutboundGuard } from './outbound-guard.ts';
import { PolicyRepository } from './policy-repo.ts';
import { AlertRouter } from './router.ts';
import type { RuleCatalog } from './sources/findings.ts';

export const WEB_APP = 'https://dw.example.test';

export function sampleItem(over: Partial<AlertItem> = {}): AlertItem {
  return {
    source: 'finding',
    sourceId: 41,
    event: 'opened',
    severity: 'high',
    title: 'No Anyone links',
    ruleId: 'permission_anonymous_link_absent',
    detector: 'permission_anonymous_link_absent',
    integration: 'contoso',
    resourceType: 'permission',
    resourceId: 'perm-1',
    resourceName: 'Budget <2026>.xlsx',
    resourcePath: '/Finance/Budget <2026>.xlsx',
    owner: 'alice@contoso.com',
    resourceUrl: 'https://contoso-my.sharepoint.com/personal/alice/Finance/Budget.xlsx',
    changed: 'added: link_scope anonymous',
    reason: 'Anyone with the link can open it',
    actor: 'bob@contoso.com',
    at: '2026-03-01T10:00:00.000Z',
    appUrl: `${WEB_APP}/findings/7`,
    ...over,
  };
}

export function sampleMessage(over: Partial<AlertMessage> = {}): AlertMessage {
  const item = sampleItem();
  return {
    id: 'alert-1',
    policy: 'sharing',
    kind: 'alert',
    title: 'Finding opened: No Anyone links — /Finance/Budget <2026>.xlsx',
    severity: item.severity,
    count: 1,
    bySeverity: { high: 1 },
    items: [item],
    digestReason: null,
    appUrl: item.appUrl,
    createdAt: '2026-03-01T10:00:01.000Z',
    ...over,
  };
}

export function sampleDigest(count: number, listed = 10): AlertMessage {
  const items = Array.from({ length: listed }, (_, i) =>
    sampleItem({
      sourceId: i + 1,
      resourcePath: `/Shared/file-${i + 1}.docx`,
      severity: i === 0 ? 'critical' : 'high',
    }),
  );
  return sampleMessage({
    id: 'digest-1',
    kind: 'digest',
    title: `${count} finding events for sharing`,
    severity: 'critical',
    count,
    bySeverity: { critical: 1, high: count - 1 },
    items,
    digestReason: 'burst',
    appUrl: `${WEB_APP}/findings?status=open`,
  });
}

export function testSecretBox(): SecretBox {
  return SecretBox.fromKey(randomBytes(32).toString('base64'));
}

export async function insertIntegration(db: Kysely<Database>, store: Store, id = 'int-1', name = 'contoso') {
  const now = new Date().toISOString();
  await db
    .insertInto('integrations')
    .values({
      id,
      name,
      tenant_id: `tenant-${id}`,
      client_id: 'client',
      secret_enc: null,
      certificate_enc: null,
      graph_base_url: null,
      authority_url: null,
      management_base_url: null,
      ca_pem: null,
      verified_domains: encodeValue('json', ['contoso.com'], store.dialect),
      enabled: encodeValue('boolean', true, store.dialect) as boolean,
      created_at: now,
      updated_at: now,
      probe: null,
      probed_at: null,
    })
    .execute();
}

export interface FindingEventSpec {
  ruleId?: string;
  severity?: string;
  event?: 'opened' | 'resolved' | 'reopened' | 'suppressed';
  path?: string;
  owner?: string;
  integrationId?: string;
  /** An explicit id (to make gaps). */
  id?: number;
}

/** Writes findings and their events as the rules engine does; returns the event ids. */
export async function insertFindingEvents(
  db: Kysely<Database>,
  specs: FindingEventSpec[],
): Promise<number[]> {
  const ids: number[] = [];
  const at = new Date().toISOString();
  for (let start = 0; start < specs.length; start += 200) {
    const part = specs.slice(start, start + 200);
    const keyBase = `${Date.now()}-${Math.random()}`;
    const findings = await db
      .insertInto('findings')
      .values(
        part.map((s, i) => ({
          integration_id: s.integrationId ?? 'int-1',
          rule_id: s.ruleId ?? 'permission_anonymous_link_absent',
          resource_type: 'permission',
          resource_key: `d1/item-${start + i}/perm-${keyBase}-${i}`,
          resource_id: `perm-${start + i}`,
          drive_id: 'd1',
          item_id: `item-${start + i}`,
          status: 'open',
          result: 'alarm',
          severity: s.severity ?? 'high',
          reason: 'Anyone with the link can open it',
          details: '{}',
          resource_name: (s.path ?? `/Shared/file-${start + i}.docx`).split('/').pop() ?? null,
          resource_path: s.path ?? `/Shared/file-${start + i}.docx`,
          resource_owner: s.owner ?? 'alice@contoso.com',
          first_seen: at,
          last_seen: at,
          resolved_at: null,
          suppression_id: null,
        })),
      )
      .returning('id')
      .execute();
    const events = await db
      .insertInto('finding_events')
      .values(
        part.map((s, i) => ({
          ...(s.id !== undefined ? { id: s.id } : {}),
          finding_id: Number(findings[i].id),
          integration_id: s.integrationId ?? 'int-1',
          rule_id: s.ruleId ?? 'permission_anonymous_link_absent',
          resource_type: 'permission',
          resource_id: `perm-${start + i}`,
          event: s.event ?? 'opened',
          result: 'alarm' as const,
          severity: s.severity ?? 'high',
          reason: 'Anyone with the link can open it',
          actor: null,
          at,
        })),
      )
      .returning('id')
      .execute();
    ids.push(...events.map((e) => Number(e.id)));
  }
  return ids;
}

export interface AlertsHarness {
  box: SecretBox;
  guard: OutboundGuard;
  channels: ChannelRepository;
  policies: PolicyRepository;
  outbox: AlertOutbox;
  router: AlertRouter;
  worker: DeliveryWorker;
  close(): Promise<void>;
}

/** The alerts machinery over a test store, with quick retries. */
export function alertsHarness(
  store: Store,
  options: {
    allow?: AllowPrivateTargets;
    catalog?: RuleCatalog;
    now?: () => Date;
    worker?: Partial<WorkerOptions>;
    gapGraceMs?: number;
    box?: SecretBox;
  } = {},
): AlertsHarness {
  const box = options.box ?? testSecretBox();
  const guard = new OutboundGuard(options.allow ?? true);
  const channels = new ChannelRepository(store, box);
  const policies = new PolicyRepository(store, channels);
  const outbox = new AlertOutbox(store.db);
  const router = new AlertRouter({
    store,
    policies,
    outbox,
    catalog: options.catalog ?? (() => undefined),
    links: new AppLinks(WEB_APP),
    topItems: 10,
    gapGraceMs: options.gapGraceMs ?? 60_000,
    logger: quietLogger,
    now: options.now,
  });
  const worker = new DeliveryWorker({
    outbox,
    channels,
    guard,
    timeoutMs: 2_000,
    maxAttempts: 5,
    retryBaseMs: 20,
    retryMaxMs: 200,
    logger: quietLogger,
    pollMs: 20,
    ...options.worker,
  });
  return {
    box,
    guard,
    channels,
    policies,
    outbox,
    router,
    worker,
    close: async () => {
      await worker.stop();
      await guard.close();
    },
  };
}

/** A drive with its owner and a file in it, as the collector stores them. */
export async function insertDriveAndItem(
  db: Kysely<Database>,
  store: Store,
  spec: { driveId?: string; itemId: string; path: string; owner?: string; integrationId?: string },
): Promise<void> {
  const now = new Date().toISOString();
  const integrationId = spec.integrationId ?? 'int-1';
  const driveId = spec.driveId ?? 'd1';
  const base = {
    integration_id: integrationId,
    tenant_id: `tenant-${integrationId}`,
    first_seen: now,
    last_seen: now,
  };
  const drive = await db
    .selectFrom('drives')
    .select('id')
    .where('integration_id', '=', integrationId)
    .where('id', '=', driveId)
    .executeTakeFirst();
  if (!drive)
    await db
      .insertInto('drives')
      .values({
        ...base,
        id: driveId,
        owner_email: spec.owner ?? 'alice@contoso.com',
        name: 'OneDrive',
        web_url: `https://contoso-my.sharepoint.com/personal/${driveId}`,
      } as never)
      .execute();
  await db
    .insertInto('drive_items')
    .values({
      ...base,
      drive_id: driveId,
      id: spec.itemId,
      name: spec.path.split('/').pop(),
      path: spec.path,
      is_folder: encodeValue('boolean', false, store.dialect),
      web_url: `https://contoso-my.sharepoint.com/personal/${driveId}${spec.path}`,
    } as never)
    .execute();
}

/** A stored permission row (the current state a change policy's condition may read). */
export async function insertPermission(
  db: Kysely<Database>,
  store: Store,
  spec: { driveId?: string; itemId: string; id: string; linkScope: string | null; isExternal: boolean },
): Promise<void> {
  const now = new Date().toISOString();
  await db
    .insertInto('permissions')
    .values({
      integration_id: 'int-1',
      tenant_id: 'tenant-int-1',
      drive_id: spec.driveId ?? 'd1',
      item_id: spec.itemId,
      id: spec.id,
      first_seen: now,
      last_seen: now,
      link_scope: spec.linkScope,
      is_external: encodeValue('boolean', spec.isExternal, store.dialect),
      roles: encodeValue('json', ['read'], store.dialect),
    } as never)
    .execute();
}

/** A history row as the collector writes it. */
export async function insertChange(
  db: Kysely<Database>,
  spec: {
    resourceType: string;
    resourceId: string;
    changeType: 'added' | 'modified' | 'removed';
    driveId?: string | null;
    itemId?: string | null;
    before?: Record<string, unknown> | null;
    after?: Record<string, unknown> | null;
    actor?: string | null;
    observedAt?: string;
  },
): Promise<number> {
  const fields = Object.keys(spec.after ?? spec.before ?? {});
  const row = await db
    .insertInto('changes')
    .values({
      integration_id: 'int-1',
      tenant_id: 'tenant-int-1',
      resource_type: spec.resourceType as never,
      resource_id: spec.resourceId,
      drive_id: spec.driveId ?? null,
      item_id: spec.itemId ?? null,
      group_id: null,
      change_type: spec.changeType,
      fields: JSON.stringify(fields),
      before: spec.before ? JSON.stringify(spec.before) : null,
      after: spec.after ? JSON.stringify(spec.after) : null,
      actor: spec.actor ?? null,
      source: 'delta',
      observed_at: spec.observedAt ?? new Date().toISOString(),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(row.id);
}
