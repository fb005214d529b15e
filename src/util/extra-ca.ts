import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';

/**
 * undici `connect` options that trust Node's root certificates plus one more CA (the
 * simulator's, a TLS-inspecting proxy's). One TLS context for every connection of the agent:
 * given `ca` instead, each connection built its own and parsed the ~140 root certificates
 * again (~12 ms of CPU a connection; 0.4 s of a 30,011-item sync, docs/performance.md).
 * Without `caPem`, nothing: Node's default context is shared already.
 */
export function connectTrusting(caPem: string | undefined): { secureContext?: SecureContext } {
  return caPem ? { secureContext: createSecureContext({ ca: [...rootCertificates, caPem] }) } : {};
}
