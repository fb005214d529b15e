import { createGraphClient } from '../graph/client.ts';
import { GraphError } from '../graph/errors.ts';
import type { GraphClientOptions } from '../graph/types.ts';
import { type ProbeResult, probeIntegration } from '../integrations/probe.ts';
import { IntegrationError, type IntegrationInfo, type IntegrationInput } from '../store/integrations.ts';
import type { AppContext } from './context.ts';

/**
 * Adding an integration (CLI `integrations add`, the REST API, Connect with Microsoft):
 * validate the credentials and probe every permission first, then store it with the probe.
 */

/** The credentials were refused outright (wrong secret, unknown tenant or app): nothing is stored. */
export class CredentialsRejected extends Error {
  constructor(
    readonly tenantId: string,
    readonly graphCode: string,
    message: string,
  ) {
    super(`the credentials do not work for tenant ${tenantId}: ${graphCode}: ${message}`);
    this.name = 'CredentialsRejected';
  }
}

/** Probes what these credentials may read (one cheap request per capability); throws CredentialsRejected. */
export async function probeCredentials(
  creds: GraphClientOptions & { label?: string },
): Promise<ProbeResult[]> {
  const client = createGraphClient({ ...creds, label: creds.label ?? creds.tenantId, maxRetries: 2 });
  try {
    return await probeIntegration(client, creds.tenantId);
  } catch (err) {
    if (err instanceof GraphError) throw new CredentialsRejected(creds.tenantId, err.code, err.message);
    throw err;
  } finally {
    await client.close();
  }
}

/** How the probe is stored on the integration: capability → status (skipped counts as error). */
function probeRecord(probe: ProbeResult[]): Record<string, string> {
  return Object.fromEntries(probe.map((p) => [p.capability, p.status === 'skipped' ? 'error' : p.status]));
}

export interface AddedIntegration {
  integration: IntegrationInfo;
  /** Undefined when added without probing. */
  probe?: ProbeResult[];
}

/** Validates (unless probe is false), stores the integration sealed, and records the probe. */
export async function addIntegration(
  app: AppContext,
  input: IntegrationInput,
  options: { probe?: boolean } = {},
): Promise<AddedIntegration> {
  const name = input.name?.trim() || input.tenantId;
  // Before spending Graph requests on the probe.
  if (await app.integrations.get(name))
    throw new IntegrationError(`an integration named "${name}" already exists`);
  let probe: ProbeResult[] | undefined;
  if (options.probe !== false) {
    const { name: _, verifiedDomains: __, enabled: ___, ...creds } = input;
    probe = await probeCredentials({ ...creds, label: name });
  }
  const created = await app.integrations.create(input);
  if (!probe) return { integration: created };
  await app.integrations.setProbe(created.id, probeRecord(probe));
  return { integration: (await app.integrations.get(created.id)) ?? created, probe };
}

/** Probes a stored integration again with its stored credentials and records the result. */
export async function reprobeIntegration(app: AppContext, idOrName: string): Promise<ProbeResult[]> {
  const { id, clientOptions } = await app.integrations.getWithCredentials(idOrName);
  const probe = await probeCredentials(clientOptions);
  await app.integrations.setProbe(id, probeRecord(probe));
  return probe;
}
