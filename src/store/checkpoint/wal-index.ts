import { closeSync, openSync, readSync } from 'node:fs';
import { endianness } from 'node:os';

/** The start of the wal-index: two copies of its 48-byte header, then the checkpoint information. */
const HEADER_BYTES = 136;
/** WalIndexHdr.mxFrame: the last valid frame of the WAL. */
const MX_FRAME = 16;
/** WalCkptInfo.nBackfill: frames already copied back to the database. */
const N_BACKFILL = 96;

/**
 * How many WAL frames wait to be copied back, read from the wal-index (`<db>-shm`, laid out as
 * https://sqlite.org/walformat.html §2.2 describes, in native byte order) without a lock or a
 * checkpoint: a heuristic that decides when to checkpoint, never what a checkpoint copies.
 */
export class WalIndex {
  private fd: number | undefined;
  private readonly buffer = Buffer.alloc(HEADER_BYTES);
  private readonly read32 =
    endianness() === 'LE'
      ? (offset: number) => this.buffer.readUInt32LE(offset)
      : (offset: number) => this.buffer.readUInt32BE(offset);

  constructor(private readonly path: string) {}

  /** Frames not yet checkpointed; 0 while there is no wal-index (no connection opened the WAL yet). */
  pendingFrames(): number {
    try {
      this.fd ??= openSync(this.path, 'r');
      if (readSync(this.fd, this.buffer, 0, HEADER_BYTES, 0) < HEADER_BYTES) return 0;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw err;
    }
    // After the WAL starts over, nBackfill is back to 0 with mxFrame.
    return Math.max(0, this.read32(MX_FRAME) - this.read32(N_BACKFILL));
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
