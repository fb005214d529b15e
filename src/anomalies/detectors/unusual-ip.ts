import type { DetectorParams } from '../settings.ts';
import { type ActivityEvent, type Detection, iso, type Severity } from '../types.ts';
import { evidenceOf } from './bursts.ts';

/** The address's network prefix: IPv4 /bits (default 16), IPv6 /48. */
export function ipPrefix(ip: string, bits: number): string {
  if (ip.includes(':')) return ip.toLowerCase().split(':').slice(0, 3).join(':');
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((n) => !Number.isInteger(n) || n < 0 || n > 255)) return ip;
  const value = ((parts[0] << 24) >>> 0) + (parts[1] << 16) + (parts[2] << 8) + parts[3];
  const masked = bits >= 32 ? value : (value & (~0 << (32 - bits))) >>> 0;
  return `${[24, 16, 8, 0].map((s) => (masked >>> s) & 255).join('.')}/${bits}`;
}

/**
 * unusual_ip: an actor works from a network prefix not seen for them within the baseline
 * (and, by default, not seen for anyone in the tenant: office, VPN and carrier prefixes are
 * known). Needs history: an actor first seen less than `min_history_hours` ago has no baseline.
 * `since`: only events from then on are judged (older ones are the baseline).
 */
export function detectUnusualIp(
  events: readonly ActivityEvent[],
  p: DetectorParams['unusual_ip'],
  since: number,
): Detection[] {
  const baselineMs = p.baseline_days * 86_400_000;
  const withIp = events.filter((e) => e.ip && e.actor).sort((a, b) => a.time - b.time);
  /** Last time each prefix was seen in the tenant, updated as we walk through time. */
  const tenantSeen = new Map<string, number>();
  const actorSeen = new Map<string, Map<string, number>>();
  const firstSeen = new Map<string, number>();
  const hits = new Map<string, ActivityEvent[]>();
  for (const e of withIp) {
    const actor = e.actor as string;
    const prefix = ipPrefix(e.ip as string, p.ipv4_prefix_bits);
    const mine = actorSeen.get(actor) ?? new Map<string, number>();
    actorSeen.set(actor, mine);
    if (!firstSeen.has(actor)) firstSeen.set(actor, e.time);
    const seenByMe = (mine.get(prefix) ?? -Infinity) >= e.time - baselineMs;
    const seenByTenant = (tenantSeen.get(prefix) ?? -Infinity) >= e.time - baselineMs;
    const hasHistory = e.time - (firstSeen.get(actor) as number) >= p.min_history_hours * 3_600_000;
    const key = `${actor}|${prefix}`;
    // Later events from a flagged prefix are its evidence; the first one alone is the signal.
    const hit = hits.get(key);
    if (hit) hit.push(e);
    else if (e.time >= since && hasHistory && !seenByMe && !(p.ignore_tenant_prefixes && seenByTenant))
      hits.set(key, [e]);
    mine.set(prefix, e.time);
    tenantSeen.set(prefix, e.time);
  }
  const out: Detection[] = [];
  for (const [key, list] of hits) {
    const [actor, prefix] = key.split('|');
    out.push({
      detector: 'unusual_ip',
      severity: p.severity as Severity,
      resourceType: 'user',
      resourceId: actor,
      driveId: null,
      itemId: null,
      actor,
      reason: `${actor} used ${list[0].ip} (${prefix}), never seen for them in ${p.baseline_days} days`,
      from: iso(list[0].time),
      to: iso(list[list.length - 1].time),
      evidence: evidenceOf(list, { prefix }),
    });
  }
  return out.sort((a, b) => a.from.localeCompare(b.from));
}
