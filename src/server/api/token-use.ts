import type { CommandBus } from '../../app/commands/local-bus.ts';
import type { Principal } from '../../auth/principals.ts';
import type { Logger } from '../../util/logger.ts';

/**
 * An API token's `last_used_at`. The server thread reads a read-only store, so each use is
 * handed to the main thread as a command (`auth.tokenUsed`), at most once a minute per token,
 * and never awaited: the request it came with does not wait for it, and a lost one only
 * leaves the time a minute older.
 */
export const TOKEN_USE_INTERVAL_MS = 60_000;
/** Tokens remembered at most; past it, those not used for a minute are forgotten. */
const MAX_REMEMBERED = 10_000;

export class TokenUseRecorder {
  private readonly lastSent = new Map<string, number>();

  constructor(
    private readonly commands: CommandBus,
    private readonly logger: Logger,
    private readonly intervalMs = TOKEN_USE_INTERVAL_MS,
  ) {}

  /** A request authenticated by `principal` (a token) at `now`. */
  used(principal: Principal, now: Date): void {
    const id = principal.tokenId;
    if (!id) return;
    const at = now.getTime();
    const last = this.lastSent.get(id);
    if (last !== undefined && at - last < this.intervalMs) return;
    this.lastSent.set(id, at);
    if (this.lastSent.size > MAX_REMEMBERED) this.forget(at);
    const { userId, username, role } = principal;
    this.commands
      .run('auth.tokenUsed', { id, at: now.toISOString() }, { userId, username, role })
      .catch((err: unknown) => this.logger.debug({ err, tokenId: id }, 'token use not recorded'));
  }

  private forget(now: number): void {
    for (const [id, at] of this.lastSent) if (now - at >= this.intervalMs) this.lastSent.delete(id);
  }
}
