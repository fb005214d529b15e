import { readFileSync } from 'node:fs';
import type { SimConnectionInfo } from './contracts.ts';

/** What connects a Graph client (or an integration) to a running simulator: its tenant, app credentials, URLs and CA. */
export interface SimCredentials {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  graphBaseUrl: string;
  authorityUrl: string;
  managementBaseUrl: string;
  caPem: string;
}

export function simCredentials(info: SimConnectionInfo): SimCredentials {
  return {
    tenantId: info.tenantId,
    clientId: info.clientId,
    clientSecret: info.clientSecret,
    graphBaseUrl: info.graphBaseUrl,
    authorityUrl: info.authorityUrl,
    managementBaseUrl: info.managementBaseUrl,
    caPem: readFileSync(info.caCertPath, 'utf8'),
  };
}
