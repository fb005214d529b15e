import { type AddressInfo, createServer } from 'node:net';

/** A port that was free a moment ago on 127.0.0.1 (for servers that must know their URL before listening). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}
