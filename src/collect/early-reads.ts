import pLimit from 'p-limit';
import type { GraphClient, GraphRequest } from '../graph/types.ts';
import { storeFaultKind } from '../store/store-fault.ts';
import { describeError, reportError, type SyncContext } from './context.ts';
import { type DriveSyncResult, readDriveLabels } from './drive-sync.ts';
import { readPendingPermissions } from './permission-reads.ts';

/**
 * Reads that fill the RU budget while a sync's drive feeds run.
 *
 * The feeds cost few RU (a delta page of up to 999 items is 1 or 2 RU) and are bound by the
 * work of storing items, while the permission and label reads after them cost nearly all the
 * sync's RU (5 per sharing root, 2 per label read). Run one after the other, the budget idles
 * through the feeds and the reads then take as long again. So the drives whose feed is done
 * get their permission reads (riskiest first among them) and then their label reads here,
 * at background priority (GraphRequest.priority): they take only RU no feed request waits
 * for, and leave a reserve of the budget free, so the feeds go as fast as without them.
 *
 * When every feed is done, `stop()` sends no further batch, stores those in flight and
 * returns. Positions are durable per drive (permission-reads.ts), so the tenant-wide pass in
 * risk order reads what is left, and the label step skips the drives `labelled` names.
 */
export interface EarlyReads {
  /** A drive whose feed completed (its label source from the feed's result). */
  add(drive: DriveSyncResult): void;
  /** Ends the rounds after the batches in flight; resolves once they are stored. */
  stop(): Promise<void>;
  /** Drives whose label reads were done here. */
  readonly labelled: ReadonlySet<string>;
}

export interface EarlyReadOptions {
  /** $batch calls in flight at once, as for the pass after the feeds. */
  concurrency: number;
  /** Settles when the label catalogue is read (label reads name labels from it). */
  labelsReady: Promise<unknown>;
  onPermissionBatch?: (info: { calls: number }) => void;
  onLabelCalls?: (calls: number) => void;
  /** A store fault (or an error that could not be recorded) ends the early reads; the sync stops on it. */
  onFatal: (err: unknown) => void;
}

export function startEarlyReads(ctx: SyncContext, opts: EarlyReadOptions): EarlyReads {
  const bctx: SyncContext = { ...ctx, client: backgroundClient(ctx.client) };
  const waiting: DriveSyncResult[] = [];
  const labelled = new Set<string>();
  const labelLimit = pLimit(Math.max(1, opts.concurrency));
  /** Label reads run beside the next permission rounds, never holding them up. */
  const labelReads: Array<Promise<unknown>> = [];
  let stopping = false;
  let wake: (() => void) | undefined;
  const stopped = () => stopping;

  const round = async (drives: DriveSyncResult[]): Promise<boolean> => {
    const r = await readPendingPermissions(bctx, {
      driveIds: drives.map((d) => d.driveId),
      concurrency: opts.concurrency,
      onBatch: (b) => opts.onPermissionBatch?.({ calls: b.calls }),
      stop: stopped,
    });
    // Denied: the pass after the feeds meets it again and reports it; no label read without permissions.
    if (r.denied || stopping) return !r.denied;
    for (const d of drives)
      labelReads.push(
        labelLimit(async () => {
          await opts.labelsReady;
          if (stopping) return;
          labelled.add(d.driveId);
          opts.onLabelCalls?.(await readDriveLabels(bctx, d.driveId, d.labelSource));
        }).catch(fault),
      );
    return true;
  };

  const loop = async () => {
    while (!stopping) {
      if (waiting.length === 0) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        continue;
      }
      if (!(await round(waiting.splice(0)))) return;
    }
  };
  /** Never rejects: nothing may be left unheard if the sync ends before stop() is awaited. */
  async function fault(err: unknown): Promise<void> {
    try {
      if (storeFaultKind(err)) opts.onFatal(err);
      else await reportError(ctx, describeError(err, 'permission'));
    } catch (reporting) {
      opts.onFatal(reporting);
    }
  }
  const running = loop().catch(fault);

  return {
    add(drive) {
      if (stopping) return;
      waiting.push(drive);
      wake?.();
    },
    async stop() {
      stopping = true;
      wake?.();
      await running;
      await Promise.all(labelReads);
    },
    labelled,
  };
}

/** The same client, every request at background priority. */
export function backgroundClient(client: GraphClient): GraphClient {
  const bg = <R extends GraphRequest>(req: R): R => ({ ...req, priority: 'background' });
  return {
    request: (req) => client.request(bg(req)),
    pages: (req) => client.pages(bg(req)),
    batch: (requests) => client.batch(requests.map(bg)),
    stats: () => client.stats(),
    close: () => client.close(),
  };
}
