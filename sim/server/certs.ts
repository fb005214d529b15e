/** The simulator's TLS: a CA generated at start, a server certificate for 127.0.0.1 signed by it, and the
 *  app's client certificate (for client_assertion), all written to the state directory. */
import { createHash, generateKeyPair, type JsonWebKey, X509Certificate } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { generate } from 'selfsigned';

export interface SimCerts {
  caPem: string;
  caCertPath: string;
  serverKey: string;
  serverCert: string;
  clientPem: string;
  clientCertPem: string;
  clientCertPath: string;
  clientThumbprintSha1: string;
  clientThumbprintSha256: string;
  /** Key that signs issued access tokens, with its key id. */
  signingKeyPem: string;
  signingPublicKeyJwk: JsonWebKey;
  signingKid: string;
}

function thumbprint(pem: string, algo: 'sha1' | 'sha256'): string {
  const der = new X509Certificate(pem).raw;
  return createHash(algo).update(der).digest('hex').toUpperCase();
}

export async function createCerts(stateDir: string): Promise<SimCerts> {
  await mkdir(stateDir, { recursive: true });
  const notBeforeDate = new Date(Date.now() - 3600_000);
  const notAfterDate = new Date(Date.now() + 365 * 86_400_000);
  const ca = await generate([{ name: 'commonName', value: 'drivewarden simulator CA' }], {
    algorithm: 'sha256',
    keySize: 2048,
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const [server, client, signing] = await Promise.all([
    generate([{ name: 'commonName', value: '127.0.0.1' }], {
      algorithm: 'sha256',
      keySize: 2048,
      notBeforeDate,
      notAfterDate,
      ca: { key: ca.private, cert: ca.cert },
      extensions: [
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
        { name: 'extKeyUsage', serverAuth: true },
        {
          name: 'subjectAltName',
          altNames: [
            { type: 7, ip: '127.0.0.1' },
            { type: 2, value: 'localhost' },
          ],
        },
      ],
    }),
    generate([{ name: 'commonName', value: 'drivewarden-sim-app' }], {
      algorithm: 'sha256',
      keySize: 2048,
      notBeforeDate,
      notAfterDate,
    }),
    promisify(generateKeyPair)('rsa', { modulusLength: 2048 }),
  ]);
  const caCertPath = join(stateDir, 'sim-ca.pem');
  const clientCertPath = join(stateDir, 'sim-app-client.pem');
  const clientPem = `${client.private.trim()}\n${client.cert.trim()}\n`;
  await writeFile(caCertPath, ca.cert, { mode: 0o644 });
  await writeFile(clientCertPath, clientPem, { mode: 0o600 });
  const jwk = signing.publicKey.export({ format: 'jwk' });
  const signingKid = createHash('sha256').update(JSON.stringify(jwk)).digest('base64url').slice(0, 27);
  return {
    caPem: ca.cert,
    caCertPath,
    serverKey: server.private,
    serverCert: `${server.cert.trim()}\n${ca.cert.trim()}\n`,
    clientPem,
    clientCertPem: client.cert,
    clientCertPath,
    clientThumbprintSha1: thumbprint(client.cert, 'sha1'),
    clientThumbprintSha256: thumbprint(client.cert, 'sha256'),
    signingKeyPem: signing.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    signingPublicKeyJwk: jwk,
    signingKid,
  };
}
