/**
 * The inbox writer thread (started by the server thread through boot.mjs): it owns the SQLite
 * inbox file's connection and commits each batch of rows it is sent. A commit with
 * synchronous=FULL waits for an fsync, which takes tens of milliseconds on a busy disk, and
 * better-sqlite3 waits synchronously: on the server thread that held its event loop, so every
 * request arriving meanwhile waited unread. Here it holds only this thread, and the receiver
 * reads the requests that arrive during one commit and commits their rows together in the next.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SqliteInboxStore } from '../../queue/webhook-inbox.ts';
import type { FromInboxWriter, InboxWriterData, ToInboxWriter } from './inbox-writer-protocol.ts';

const data = workerData as InboxWriterData;
if (!parentPort) throw new Error('inbox-writer entry must run in a worker thread');
const port = parentPort;
const post = (message: FromInboxWriter) => port.postMessage(message);

let store: SqliteInboxStore;
try {
  store = new SqliteInboxStore(data.file, { synchronous: data.synchronous });
  post({ type: 'ready' });
} catch (err) {
  post({ type: 'start-failed', message: err instanceof Error ? err.message : String(err) });
  port.close();
}

port.on('message', (message: ToInboxWriter) => {
  if (message.type === 'close') {
    store
      .close()
      .catch(() => undefined)
      .finally(() => {
        post({ type: 'closed' });
        port.close();
      });
    return;
  }
  store.insert(message.rows).then(
    () => post({ type: 'committed', id: message.id }),
    (err: unknown) =>
      post({ type: 'failed', id: message.id, message: err instanceof Error ? err.message : String(err) }),
  );
});
