/**
 * Upsert-with-history. Every function here runs inside a transaction the caller opened
 * (pass the transaction as `ctx.db`), so rows, history and checkpoints commit together.
 * Statements are batched (multi-row VALUES, IN lists) and their SQL text is cached.
 *
 * The parts: apply/batching.ts (power-of-two statement shapes, SQL text cache),
 * apply/table-meta.ts, apply/read.ts (stored rows), apply/diff.ts (change records),
 * apply/history.ts (the changes table), apply/upsert.ts, apply/remove.ts (tombstones,
 * sweeps), apply/replace.ts (whole scopes).
 */
export { inList, inLists, pow2Chunks, run } from './apply/batching.ts';
export { removeRows, sweepScope, touchRows } from './apply/remove.ts';
export { replaceScope, replaceScopes } from './apply/replace.ts';
export type { ApplyContext, ChangeRecord, ChangeSource, ChangeType, UpsertResult } from './apply/types.ts';
export { upsertRows } from './apply/upsert.ts';
