import type { AlertMessage } from '../message.ts';
import type { OutboundGuard } from '../outbound-guard.ts';

/** What a channel needs to send one message. */
export interface SendContext {
  guard: OutboundGuard;
  /** The whole attempt at most this long. */
  timeoutMs: number;
  /** Stable per alert and channel (webhook-id, e-mail Message-ID). */
  idempotencyKey: string;
  now: Date;
}

/** The receiver's acknowledgement: HTTP status or SMTP reply code. */
export interface SendResult {
  status: number;
}

/** A channel kind's sender: resolves once the receiver accepted, throws a DeliveryError otherwise. */
export type ChannelSend<Config> = (
  message: AlertMessage,
  config: Config,
  ctx: SendContext,
) => Promise<SendResult>;
