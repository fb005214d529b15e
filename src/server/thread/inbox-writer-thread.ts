import { Worker } from 'node:worker_threads';
import type { InboxInsert } from '../../queue/webhook-inbox.ts';
import { moduleUrl, startingModule } from '../../util/runtime-files.ts';
import type { FromInboxWriter, InboxWriterData, ToInboxWriter } from './inbox-writer-protocol.ts';

const BOOT = new URL('./boot.mjs', import.meta.url);
const ENTRY = moduleUrl('./inbox-writer.ts', import.meta.url);

/**
 * The server thread's side of the inbox writer thread (inbox-writer.ts): `insert` resolves once
 * the writer committed the rows, and rejects if it could not. A writer that dies fails the
 * inserts waiting on it and calls `onDeath` (the server thread then dies too, and its supervisor
 * starts both again): acknowledgements must never wait on a writer that is gone.
 */
export class InboxWriterThread {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  private closing = false;
  private dead: Error | undefined;

  private constructor(
    private readonly worker: Worker,
    private readonly exit: Promise<number>,
  ) {}

  static async start(
    file: string,
    options: { synchronous?: 'FULL' | 'NORMAL'; onDeath: (err: Error) => void },
  ): Promise<InboxWriterThread> {
    const data: InboxWriterData = { entry: ENTRY.href, file, synchronous: options.synchronous };
    const worker = new Worker(startingModule('./inbox-writer.ts', import.meta.url, BOOT), {
      workerData: data,
    });
    const exit = new Promise<number>((resolve) => worker.once('exit', resolve));
    let lastError: Error | undefined;
    worker.on('error', (err) => {
      lastError = err;
    });
    const first = await Promise.race([
      new Promise<FromInboxWriter>((resolve) => worker.once('message', resolve)),
      exit.then(
        (code) => ({ type: 'start-failed', message: lastError?.message ?? `exit code ${code}` }) as const,
      ),
    ]);
    if (first.type !== 'ready') {
      await worker.terminate();
      throw new Error(
        `inbox writer thread could not open ${file}: ${first.type === 'start-failed' ? first.message : first.type}`,
      );
    }
    const writer = new InboxWriterThread(worker, exit);
    worker.on('message', (m: FromInboxWriter) => writer.onMessage(m));
    void exit.then((code) => {
      const err = new Error(`inbox writer thread ended: ${lastError?.message ?? `exit code ${code}`}`);
      writer.dead = err;
      for (const w of writer.waiting.values()) w.reject(err);
      writer.waiting.clear();
      if (!writer.closing) options.onDeath(err);
    });
    return writer;
  }

  insert(rows: InboxInsert[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    if (this.closing) return Promise.reject(new Error('inbox writer thread is closing'));
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.post({ type: 'insert', id, rows });
    });
  }

  /** Lets the inserts sent finish, closes the file, ends the thread (terminated after `timeoutMs`). */
  async close(timeoutMs = 5000): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (!this.dead) {
      const closed = new Promise<void>((resolve) => {
        this.onClosed = resolve;
      });
      this.post({ type: 'close' });
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([closed, this.exit, new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
      clearTimeout(timer);
    }
    // The loader the bootstrap registered may keep the thread alive: end it once the file is closed.
    await this.worker.terminate().catch(() => undefined);
  }

  private onClosed: () => void = () => {};

  private post(message: ToInboxWriter): void {
    this.worker.postMessage(message);
  }

  private onMessage(message: FromInboxWriter): void {
    if (message.type === 'closed') this.onClosed();
    if (message.type !== 'committed' && message.type !== 'failed') return;
    const w = this.waiting.get(message.id);
    if (!w) return;
    this.waiting.delete(message.id);
    if (message.type === 'committed') w.resolve();
    else w.reject(new Error(`webhook inbox insert failed: ${message.message}`));
  }
}
