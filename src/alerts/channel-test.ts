import type { ChannelRepository } from './channel-repo.ts';
import { sendToChannel } from './channels/index.ts';
import { toDeliveryError } from './delivery-error.ts';
import type { OutboundGuard } from './outbound-guard.ts';
import { testMessage } from './test-message.ts';

export interface ChannelTestResult {
  ok: boolean;
  /** HTTP status or SMTP reply code when the receiver answered. */
  status: number | null;
  ms: number;
  error: string | null;
}

/** Sends the test alert to a channel now (through the guard, not the outbox). */
export async function testChannel(
  channels: ChannelRepository,
  guard: OutboundGuard,
  nameOrId: string,
  options: { timeoutMs: number; appUrl: string | null },
): Promise<ChannelTestResult> {
  const info = await channels.require(nameOrId);
  const channel = await channels.config(info.id);
  if (!channel) throw new Error(`no channel "${nameOrId}"`);
  const started = Date.now();
  try {
    const res = await sendToChannel(channel, testMessage(info.name, options.appUrl), {
      guard,
      timeoutMs: options.timeoutMs,
      idempotencyKey: `test_${started}`,
      now: new Date(),
    });
    return { ok: true, status: res.status, ms: Date.now() - started, error: null };
  } catch (err) {
    const e = toDeliveryError(err, options.timeoutMs);
    return { ok: false, status: e.status, ms: Date.now() - started, error: e.message };
  }
}
