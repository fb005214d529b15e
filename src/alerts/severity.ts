/**
 * Severities, lowest first: the same five as rule.yaml (src/rules/definition.ts, which
 * alerts/ may not import: same layer). Unknown values rank lowest.
 */
export const ALERT_SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

export function severityRank(severity: string): number {
  return ALERT_SEVERITIES.indexOf(severity as AlertSeverity);
}

export function isSeverity(value: string): value is AlertSeverity {
  return severityRank(value) >= 0;
}

/** The higher of two severities. */
export function maxSeverity(a: string, b: string): string {
  return severityRank(b) > severityRank(a) ? b : a;
}
