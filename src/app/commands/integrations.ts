import { z } from 'zod';
import type { ProbeResult } from '../../integrations/probe.ts';
import { IntegrationError, type IntegrationInfo } from '../../store/integrations.ts';
import { ConnectError, completeConnect, startConnect } from '../connect.ts';
import type { AppContext } from '../context.ts';
import { addIntegration, CredentialsRejected, reprobeIntegration } from '../integration-add.ts';
import { deleteIntegration, disableIntegration } from '../integration-lifecycle.ts';
import { CommandError, defineCommand } from './types.ts';

/** Commands of the integrations area of the REST API (server/api/routes/integrations.ts). */

/** One permission as the probe found it, with what it unlocks. */
export interface ProbeView {
  capability: string;
  permission: string;
  granted: boolean;
  status: ProbeResult['status'];
  unlocks: string;
  detail: string | null;
}

export interface IntegrationView {
  id: string;
  name: string;
  tenantId: string;
  clientId: string;
  enabled: boolean;
  authKind: 'secret' | 'certificate';
  createdAt: string;
  probedAt: string | null;
}

export const probeView = (results: ProbeResult[]): ProbeView[] =>
  results.map((r) => ({
    capability: r.capability,
    permission: r.permission,
    granted: r.status === 'granted',
    status: r.status,
    unlocks: r.neededFor,
    detail: r.detail ?? null,
  }));

const view = (i: IntegrationInfo): IntegrationView => ({
  id: i.id,
  name: i.name,
  tenantId: i.tenantId,
  clientId: i.clientId,
  enabled: i.enabled,
  authKind: i.authKind,
  createdAt: i.createdAt,
  probedAt: i.probedAt,
});

/** Domain errors as refusals the API answers with. */
function refusal(err: unknown): never {
  if (err instanceof CredentialsRejected) throw new CommandError('credentials_rejected', err.message, 422);
  if (err instanceof IntegrationError)
    throw new CommandError(
      /already exists/.test(err.message) ? 'conflict' : 'invalid_request',
      err.message,
      /already exists/.test(err.message) ? 409 : 400,
    );
  if (err instanceof ConnectError)
    throw new CommandError(
      err.code,
      err.message,
      err.code === 'connect_not_configured' ? 409 : err.code === 'not_admin' ? 403 : 400,
    );
  throw err;
}

async function existing(app: AppContext, id: string): Promise<IntegrationInfo> {
  const info = await app.integrations.get(id);
  if (!info) throw new CommandError('not_found', `integration ${id} not found`, 404);
  return info;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const idInput = z.object({ id: z.string().min(1).max(200) });

export const addInput = z
  .object({
    name: z.string().trim().min(1).max(100).optional().describe('Default: the tenant id'),
    tenantId: z.string().regex(GUID, 'must be the tenant id (a GUID)'),
    clientId: z.string().regex(GUID, 'must be the application (client) id (a GUID)'),
    clientSecret: z.string().min(1).max(1000).optional().describe('Client secret (or certificatePem)'),
    certificatePem: z
      .string()
      .min(1)
      .max(20_000)
      .optional()
      .describe('PEM with the private key and the certificate, instead of a secret'),
    graphBaseUrl: z.string().url().optional().describe('National clouds, the simulator'),
    authorityUrl: z.string().url().optional().describe('National clouds, the simulator'),
    managementBaseUrl: z.string().url().optional().describe('Office 365 Management API base URL'),
    caPem: z.string().max(20_000).optional().describe('Extra CA certificate to trust (PEM)'),
    verifiedDomains: z.array(z.string().min(1).max(253)).max(100).optional(),
  })
  .refine((v) => Boolean(v.clientSecret) !== Boolean(v.certificatePem), {
    message: 'give clientSecret or certificatePem (one of the two)',
    path: ['clientSecret'],
  });

export const integrationsCommands = {
  'integrations.add': defineCommand({
    role: 'admin',
    input: addInput,
    async run({ app, hooks }, input) {
      const added = await addIntegration(app, input).catch(refusal);
      hooks.integrationAdded(added.integration.id);
      return { integration: view(added.integration), probe: probeView(added.probe ?? []) };
    },
  }),
  'integrations.probe': defineCommand({
    role: 'admin',
    input: idInput,
    async run({ app }, { id }) {
      const info = await existing(app, id);
      const probe = await reprobeIntegration(app, info.id).catch(refusal);
      return { integration: view((await app.integrations.get(info.id)) ?? info), probe: probeView(probe) };
    },
  }),
  'integrations.disable': defineCommand({
    role: 'admin',
    input: idInput,
    async run({ app, hooks }, { id }) {
      const info = await existing(app, id);
      const subscriptions = await disableIntegration(app, info.id);
      hooks.integrationRemoved(info.id);
      return { integration: view({ ...info, enabled: false }), subscriptions };
    },
  }),
  'integrations.enable': defineCommand({
    role: 'admin',
    input: idInput,
    async run({ app, hooks }, { id }) {
      const info = await existing(app, id);
      await app.integrations.setEnabled(info.id, true);
      hooks.integrationAdded(info.id);
      return { integration: view({ ...info, enabled: true }) };
    },
  }),
  'integrations.delete': defineCommand({
    role: 'admin',
    input: idInput.extend({ confirm: z.string() }),
    async run({ app, hooks }, { id, confirm }) {
      const info = await existing(app, id);
      if (confirm !== info.name)
        throw new CommandError(
          'invalid_request',
          `confirm: must be the integration's name ("${info.name}") to delete it and purge its data`,
          400,
        );
      hooks.integrationRemoved(info.id);
      const result = await deleteIntegration(app, info.id);
      return { deleted: info.id, name: info.name, ...result };
    },
  }),
  'integrations.connectStart': defineCommand({
    role: 'admin',
    input: z.object({ redirectUri: z.string().url() }),
    async run({ app, actor }, { redirectUri }) {
      return startConnect(app, { userId: actor.userId, redirectUri }).catch(refusal);
    },
  }),
  /**
   * Microsoft's answer to the admin-consent redirect. Runs for whoever brings it back (the
   * callback is public: the browser returns without the session cookie); the single-use state
   * is the credential, and it names the admin the integration is added for.
   */
  'integrations.connectComplete': defineCommand({
    role: 'viewer',
    input: z.object({
      state: z.string().min(1).max(200),
      tenant: z.string().max(200).optional(),
      adminConsent: z.string().max(20).optional(),
      error: z.string().max(200).optional(),
      errorDescription: z.string().max(2000).optional(),
    }),
    async run({ app, hooks }, answer) {
      const added = await completeConnect(app, answer).catch(refusal);
      hooks.integrationAdded(added.integration.id);
      return {
        integration: view(added.integration),
        probe: probeView(added.probe ?? []),
        addedFor: added.userId,
      };
    },
  }),
};
