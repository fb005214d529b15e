import type { Kysely } from 'kysely';
import type { CommandBus } from '../../app/commands/local-bus.ts';
import type { Config } from '../../config/config.ts';
import type { Database } from '../../store/schema.ts';
import type { Logger } from '../../util/logger.ts';
import type { Metrics } from './metrics.ts';
import type { ListBounds } from './routes/inventory/item-list.ts';

/**
 * What API routes get. Reads go straight to `db` (on `serve` the server thread's own
 * read-only connection: keep every read indexed and paged). Every change goes through
 * `commands` (run by the process that owns the writable store and Graph clients).
 */
export interface ApiDeps {
  config: Config;
  db: Kysely<Database>;
  dialect: 'sqlite' | 'postgres';
  commands: CommandBus;
  logger: Logger;
  /** Where the built web app is (web/dist); undefined: not served. */
  webDir?: string;
  /** The clock (tests move it). */
  now?: () => Date;
  /** Prometheus metrics of this server (created when absent). */
  metrics?: Metrics;
  /** How often live events are polled from the database (ms, default 1 s). */
  liveEventsIntervalMs?: number;
  /**
   * What a page of GET /inventory/items may cost (default: item-list.ts's window, budget and
   * ceiling). Tests narrow it to get, on a small store, the short and empty pages with a
   * nextCursor that a rare filter gets on a large one.
   */
  itemListBounds?: Partial<ListBounds>;
}
