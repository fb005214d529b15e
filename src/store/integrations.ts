import { randomUUID } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import type { SecretBox } from '../util/secret-box.ts';
import { type Dialect, decodeValue, encodeValue } from './codec.ts';
import type { Database } from './schema.ts';
import type { Store } from './store.ts';
import { tablesWithIntegrationId } from './store.ts';
import type { IntegrationsTable } from './tables/inventory.ts';

export interface IntegrationInput {
  name?: string;
  tenantId: string;
  clientId: string;
  clientSecret?: string;
  certificatePem?: string;
  graphBaseUrl?: string;
  authorityUrl?: string;
  managementBaseUrl?: string;
  caPem?: string;
  verifiedDomains?: string[];
  enabled?: boolean;
}

/** Whatever the permission probe reports (src/integrations/probe.ts), stored as JSON. */
export type ProbeResult = unknown;

/** An integration as listed: never carries a secret. */
export interface IntegrationInfo {
  id: string;
  name: string;
  tenantId: string;
  clientId: string;
  authKind: 'secret' | 'certificate';
  graphBaseUrl: string | null;
  authorityUrl: string | null;
  managementBaseUrl: string | null;
  hasCustomCa: boolean;
  verifiedDomains: string[];
  enabled: boolean;
  createdAt: string;
  updatedAt: string;
  probe: ProbeResult;
  probedAt: string | null;
}

/**
 * How to reach a tenant, decrypted: the fields of the Graph client's options the store
 * holds (app/context.ts passes them to createGraphClient, which type-checks the match).
 */
export interface IntegrationConnection {
  tenantId: string;
  clientId: string;
  /** The integration's name, for errors and logs. */
  label: string;
  /** One of the two. */
  clientSecret?: string;
  certificatePem?: string;
  graphBaseUrl?: string;
  authorityUrl?: string;
  managementBaseUrl?: string;
  caPem?: string;
}

/** For the collector only: the decrypted credentials as the Graph client takes them. */
export interface IntegrationWithCredentials extends IntegrationInfo {
  clientOptions: IntegrationConnection;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class IntegrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IntegrationError';
  }
}

/** Integrations (connected tenants). Secrets are sealed with SecretBox before they reach the database. */
export class IntegrationRepository {
  constructor(
    private readonly store: Store,
    private readonly box: SecretBox,
  ) {}

  async create(input: IntegrationInput): Promise<IntegrationInfo> {
    const problems: string[] = [];
    if (!input.tenantId) problems.push('tenant id is required');
    if (!input.clientId) problems.push('client id is required');
    if (!input.clientSecret && !input.certificatePem)
      problems.push('a client secret or a certificate is required');
    if (input.clientSecret && input.certificatePem)
      problems.push('give a client secret or a certificate, not both');
    if (input.certificatePem && !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(input.certificatePem)) {
      problems.push('the certificate PEM must contain the private key');
    }
    if (problems.length) throw new IntegrationError(`cannot add integration: ${problems.join('; ')}`);
    const name = input.name?.trim() || input.tenantId;
    if (await this.find(name)) throw new IntegrationError(`an integration named "${name}" already exists`);
    const now = new Date().toISOString();
    const id = randomUUID();
    const d = this.store.dialect;
    await this.store.db
      .insertInto('integrations')
      .values({
        id,
        name,
        tenant_id: input.tenantId,
        client_id: input.clientId,
        secret_enc: input.clientSecret ? this.box.encrypt(input.clientSecret) : null,
        certificate_enc: input.certificatePem ? this.box.encrypt(input.certificatePem) : null,
        graph_base_url: input.graphBaseUrl ?? null,
        authority_url: input.authorityUrl ?? null,
        management_base_url: input.managementBaseUrl ?? null,
        ca_pem: input.caPem ?? null,
        verified_domains: encodeValue(
          'json',
          (input.verifiedDomains ?? []).map((x) => x.toLowerCase()),
          d,
        ),
        enabled: encodeValue('boolean', input.enabled ?? true, d) as boolean,
        created_at: now,
        updated_at: now,
        probe: null,
        probed_at: null,
      })
      .execute();
    return (await this.get(id)) as IntegrationInfo;
  }

  async list(): Promise<IntegrationInfo[]> {
    const rows = await this.store.db.selectFrom('integrations').selectAll().orderBy('name').execute();
    return rows.map((r) => info(r as IntegrationsTable));
  }

  /** By id or name. */
  async get(idOrName: string): Promise<IntegrationInfo | undefined> {
    const row = await this.find(idOrName);
    return row ? info(row) : undefined;
  }

  /** By id or name, with decrypted credentials (for the collector; never log or return it). */
  async getWithCredentials(idOrName: string): Promise<IntegrationWithCredentials> {
    const row = await this.find(idOrName);
    if (!row) throw new IntegrationError(`no integration "${idOrName}"`);
    const base = info(row);
    const clientOptions: IntegrationConnection = {
      tenantId: row.tenant_id,
      clientId: row.client_id,
      label: row.name,
      ...(row.secret_enc ? { clientSecret: this.box.decrypt(row.secret_enc) } : {}),
      ...(row.certificate_enc ? { certificatePem: this.box.decrypt(row.certificate_enc) } : {}),
      ...(row.graph_base_url ? { graphBaseUrl: row.graph_base_url } : {}),
      ...(row.authority_url ? { authorityUrl: row.authority_url } : {}),
      ...(row.management_base_url ? { managementBaseUrl: row.management_base_url } : {}),
      ...(row.ca_pem ? { caPem: row.ca_pem } : {}),
    };
    return { ...base, clientOptions };
  }

  async setEnabled(idOrName: string, enabled: boolean): Promise<void> {
    const row = await this.require(idOrName);
    await this.store.db
      .updateTable('integrations')
      .set({
        enabled: encodeValue('boolean', enabled, this.store.dialect) as boolean,
        updated_at: new Date().toISOString(),
      })
      .where('id', '=', row.id)
      .execute();
  }

  async setProbe(idOrName: string, probe: ProbeResult): Promise<void> {
    const row = await this.require(idOrName);
    const now = new Date().toISOString();
    await this.store.db
      .updateTable('integrations')
      .set({ probe: encodeValue('json', probe, this.store.dialect), probed_at: now, updated_at: now })
      .where('id', '=', row.id)
      .execute();
  }

  async setVerifiedDomains(idOrName: string, domains: string[]): Promise<void> {
    const row = await this.require(idOrName);
    await this.store.db
      .updateTable('integrations')
      .set({
        verified_domains: encodeValue(
          'json',
          domains.map((x) => x.toLowerCase()),
          this.store.dialect,
        ),
        updated_at: new Date().toISOString(),
      })
      .where('id', '=', row.id)
      .execute();
  }

  /**
   * Deletes the integration and purges every row it owns in every table (any table with an
   * integration_id column), in one transaction. Returns rows deleted per table.
   */
  async delete(idOrName: string): Promise<Record<string, number>> {
    const row = await this.require(idOrName);
    const tables = await tablesWithIntegrationId(this.store.db, this.store.dialect);
    const counts: Record<string, number> = {};
    await this.store.db.transaction().execute(async (trx) => {
      for (const table of tables) {
        const result = await sql`delete from ${sql.table(table)} where integration_id = ${row.id}`.execute(
          trx,
        );
        counts[table] = Number(result.numAffectedRows ?? 0n);
      }
      await trx.deleteFrom('integrations').where('id', '=', row.id).execute();
    });
    return counts;
  }

  private async require(idOrName: string): Promise<IntegrationsTable> {
    const row = await this.find(idOrName);
    if (!row) throw new IntegrationError(`no integration "${idOrName}"`);
    return row;
  }

  private async find(idOrName: string): Promise<IntegrationsTable | undefined> {
    const db = this.store.db;
    if (GUID.test(idOrName)) {
      const byId = await db
        .selectFrom('integrations')
        .selectAll()
        .where('id', '=', idOrName)
        .executeTakeFirst();
      if (byId) return byId as IntegrationsTable;
    }
    const byName = await db
      .selectFrom('integrations')
      .selectAll()
      .where('name', '=', idOrName)
      .executeTakeFirst();
    return byName as IntegrationsTable | undefined;
  }
}

function info(r: IntegrationsTable): IntegrationInfo {
  return {
    id: r.id,
    name: r.name,
    tenantId: r.tenant_id,
    clientId: r.client_id,
    authKind: r.certificate_enc ? 'certificate' : 'secret',
    graphBaseUrl: r.graph_base_url,
    authorityUrl: r.authority_url,
    managementBaseUrl: r.management_base_url,
    hasCustomCa: r.ca_pem !== null,
    verifiedDomains: (decodeValue('json', r.verified_domains) as string[] | null) ?? [],
    enabled: decodeValue('boolean', r.enabled) as boolean,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    probe: decodeValue('json', r.probe),
    probedAt: r.probed_at,
  };
}

/**
 * Rows per table that deleting an integration would purge (the same tables
 * IntegrationRepository.delete empties; tables holding none are left out).
 */
export async function purgeCounts(
  db: Kysely<Database>,
  dialect: Dialect,
  integrationId: string,
): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of (await tablesWithIntegrationId(db, dialect)).sort()) {
    const { rows } = await sql<{ n: number | string }>`
      select count(*) as n from ${sql.table(table)} where integration_id = ${integrationId}`.execute(db);
    const n = Number(rows[0]?.n ?? 0);
    if (n > 0) counts[table] = n;
  }
  return counts;
}
