/**
 * A stand-in for the HTTP server thread's entry (server-thread-start.test.ts): a start of
 * STEPS steps of STEP_MS each, each reported ('starting'), then a real listener on an ephemeral
 * port; closes on 'close'.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { parentPort, workerData } from 'node:worker_threads';
import type { FromServerThread, ToServerThread } from './protocol.ts';

export const STEPS = 8;
export const STEP_MS = 500;

const port = workerData?.entry ? parentPort : null;
if (port) await serve(port);

async function serve(port: NonNullable<typeof parentPort>): Promise<void> {
  const post = (message: FromServerThread) => port.postMessage(message);
  for (let i = 1; i <= STEPS; i++) {
    post({ type: 'starting', step: `step ${i}` });
    await sleep(STEP_MS);
  }
  const server = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port.on('message', (message: ToServerThread) => {
    if (message.type === 'close')
      server.close(() => {
        post({ type: 'closed' });
        port.close();
      });
  });
  post({ type: 'ready', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
}
