/**
 * The running service (`drivewarden serve` / `demo`) as it last described itself, so that
 * `drivewarden status` (another process, with its own environment) reports what the
 * service actually does. One row per store: the service that last started writes it.
 */
export interface ServiceStateTable {
  /** Always 'service'. */
  id: string;
  pid: number;
  hostname: string;
  started_at: string;
  /** Refreshed every `heartbeat_ms`; a row much older than that belongs to a service that is gone. */
  heartbeat_at: string;
  heartbeat_ms: number;
  /** Set by a clean stop. */
  stopped_at: string | null;
  /** http://host:port the receiver listens on; null without a listener. */
  receiver_url: string | null;
  /** 1 while the receiver listens (0 between a server-thread death and its restart). */
  receiver_up: number;
  /** The public URL Graph delivers notifications to (DW_PUBLIC_URL of the service); null = polling only. */
  public_url: string | null;
  /** 1 when the service creates Graph subscriptions. */
  webhooks_enabled: number;
  /** Why webhooks are off, as the service says it. */
  webhooks_message: string | null;
}

export interface ServiceTables {
  service_state: ServiceStateTable;
}
