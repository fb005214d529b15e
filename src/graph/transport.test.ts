import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { createTransport, TransportError } from './transport.ts';

describe('the transport', () => {
  it('refuses a response body over the cap without reading it all, and does not retry it', async () => {
    let written = 0;
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      // An endless body: only the cap ends the read.
      const pump = () => {
        while (res.write(chunk)) {
          written += chunk.length;
          if (written > 64 * 1024 * 1024) return res.end();
        }
        res.once('drain', pump);
      };
      pump();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const transport = createTransport({ timeoutMs: 10_000, maxBodyBytes: 1024 * 1024 });
    try {
      await assert.rejects(
        transport.send({ method: 'GET', url: `http://127.0.0.1:${port}/v1.0/users?$top=999`, headers: {} }),
        (err: unknown) =>
          err instanceof TransportError &&
          err.kind === 'responseTooLarge' &&
          !err.retryable &&
          /^GET \/v1\.0\/users: response body over 1048576 bytes/.test(err.message),
      );
      assert.ok(written < 16 * 1024 * 1024, `the server wrote ${written} bytes before the read stopped`);
    } finally {
      await transport.close();
      server.closeAllConnections();
      server.close();
    }
  });
});
