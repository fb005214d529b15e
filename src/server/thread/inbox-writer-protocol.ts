/** Messages between the server thread and its inbox writer thread (inbox-writer.ts). */
import type { InboxInsert } from '../../queue/webhook-inbox.ts';

export interface InboxWriterData {
  /** The module the bootstrap imports (inbox-writer.ts). */
  entry: string;
  /** The SQLite inbox file. */
  file: string;
  synchronous?: 'FULL' | 'NORMAL';
}

export type ToInboxWriter = { type: 'insert'; id: number; rows: InboxInsert[] } | { type: 'close' };

export type FromInboxWriter =
  | { type: 'ready' }
  | { type: 'start-failed'; message: string }
  | { type: 'committed'; id: number }
  | { type: 'failed'; id: number; message: string }
  | { type: 'closed' };
