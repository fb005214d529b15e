/**
 * Incremental anomaly detection (migration 0760-anomaly-baselines): how far each integration's
 * baselines and detection got, and the per-actor address baseline unusual_ip reads.
 */
export interface AnomalyCursorsTable {
  integration_id: string;
  /** The last audit event (observed_at, id) folded into the baselines. */
  baseline_observed_at: string | null;
  baseline_event_id: string | null;
  /** The IPv4 prefix length anomaly_actor_ips.prefix was computed with. */
  prefix_bits: number | null;
  /** The last audit event (observed_at, id) and changes.id detection has judged. */
  detected_observed_at: string | null;
  detected_event_id: string | null;
  detected_change_id: number | null;
  updated_at: string;
}

/** One client address of one actor: first and last use, events counted once each. Pruned past the baseline. */
export interface AnomalyActorIpsTable {
  integration_id: string;
  actor: string;
  ip: string;
  /** The address's network prefix (unusual_ip's ipv4_prefix_bits; IPv6 /48). */
  prefix: string;
  first_seen: string;
  last_seen: string;
  events: number;
}

export interface AnomaliesTables {
  anomaly_cursors: AnomalyCursorsTable;
  anomaly_actor_ips: AnomalyActorIpsTable;
}
