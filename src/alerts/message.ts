import { type AlertSeverity, severityRank } from './severity.ts';

/**
 * What an alert says, independent of the channel: the router freezes it into the outbox
 * when the event is routed, each channel renders it at delivery (channels/*.ts).
 */
export interface AlertItem {
  /** finding: a finding_events row; change: a changes row; compliance: a pack_scores row; query: a row of a saved query's result. */
  source: 'finding' | 'change' | 'compliance' | 'query';
  /** finding_events.id, changes.id or pack_scores.id (query: the row's place in the alert). */
  sourceId: number;
  /** opened, resolved, reopened (findings); added, modified, removed (changes); score_dropped, score_recovered. */
  event: string;
  severity: string;
  /** The rule's title, or what changed ("Permission added"). */
  title: string;
  /** The rule (finding alerts) or the policy that detected it (change and compliance alerts). */
  ruleId: string | null;
  detector: string;
  integration: string;
  resourceType: string;
  resourceId: string;
  resourceName: string | null;
  resourcePath: string | null;
  /** The drive owner's e-mail. */
  owner: string | null;
  /** The resource in OneDrive (its web URL) when known. */
  resourceUrl: string | null;
  /** What changed, e.g. "link_scope: — → anonymous". */
  changed: string | null;
  /** The rule's reason for a finding. */
  reason: string | null;
  /** Who did it, when Graph says. */
  actor: string | null;
  at: string;
  /** The finding or change in the web app. */
  appUrl: string | null;
}

export interface AlertMessage {
  /** The alert's id (shared by its deliveries to each channel). */
  id: string;
  policy: string;
  kind: 'alert' | 'digest';
  title: string;
  /** The highest severity among the events. */
  severity: string;
  /** Events covered (a digest lists only its top items). */
  count: number;
  bySeverity: Partial<Record<AlertSeverity, number>>;
  items: AlertItem[];
  /** Why a digest was sent: a burst, the end of quiet hours or a rate limit. */
  digestReason: 'burst' | 'quiet_hours' | 'rate_limit' | null;
  /** A list in the web app (digests), or the item's page. */
  appUrl: string | null;
  createdAt: string;
}

const SEVERITY_WORD: Record<string, string> = {
  critical: 'Critical',
  high: 'High',
  medium: 'Medium',
  low: 'Low',
  info: 'Info',
};

export function severityLabel(severity: string): string {
  return SEVERITY_WORD[severity] ?? severity;
}

const EVENT_WORD: Record<string, string> = {
  opened: 'Finding opened',
  reopened: 'Finding reopened',
  resolved: 'Finding resolved',
  added: 'Added',
  modified: 'Modified',
  removed: 'Removed',
};

/** "Finding opened: <rule title>" or "Permission added". */
export function itemHeadline(item: AlertItem): string {
  if (item.source === 'finding') return `${EVENT_WORD[item.event] ?? item.event}: ${item.title}`;
  return item.title;
}

/** Where the item is: its path, else its name, else its id. */
export function itemWhere(item: AlertItem): string {
  return item.resourcePath ?? item.resourceName ?? `${item.resourceType} ${item.resourceId}`;
}

/** Label/value pairs every channel shows for an item (empty values left out). */
export function itemFacts(item: AlertItem): Array<[string, string]> {
  const facts: Array<[string, string | null]> = [
    ['Severity', severityLabel(item.severity)],
    [item.source === 'finding' ? 'Rule' : 'Detector', item.ruleId ?? item.detector],
    ['Resource', itemWhere(item)],
    ['Owner', item.owner],
    ['What changed', item.changed],
    ['Reason', item.reason],
    ['Actor', item.actor],
    ['Integration', item.integration],
    ['When', item.at],
  ];
  return facts.filter((f): f is [string, string] => f[1] !== null && f[1] !== '');
}

/** The subject line of an alert (e-mail subject, notification text). */
export function messageSubject(message: AlertMessage): string {
  if (message.kind === 'digest') return `[drivewarden] ${message.title}`;
  const item = message.items[0];
  return `[drivewarden] ${severityLabel(message.severity)}: ${itemHeadline(item)} — ${itemWhere(item)}`;
}

/** The message as plain text (e-mail text part, Slack fallback text). */
export function messageText(message: AlertMessage): string {
  const lines: string[] = [];
  if (message.kind === 'digest') {
    lines.push(message.title, digestCounts(message), '');
    for (const item of message.items)
      lines.push(`- [${severityLabel(item.severity)}] ${itemHeadline(item)} — ${itemWhere(item)}`);
    if (message.count > message.items.length)
      lines.push(`… and ${message.count - message.items.length} more`);
  } else {
    const item = message.items[0];
    lines.push(itemHeadline(item), '');
    for (const [label, value] of itemFacts(item)) lines.push(`${label}: ${value}`);
    if (item.resourceUrl) lines.push(`Open in OneDrive: ${item.resourceUrl}`);
  }
  if (message.appUrl) lines.push('', `Open in drivewarden: ${message.appUrl}`);
  lines.push('', `Policy: ${message.policy}`);
  return lines.join('\n');
}

/** "3 critical, 12 high, 985 medium". */
export function digestCounts(message: AlertMessage): string {
  return Object.entries(message.bySeverity)
    .filter(([, n]) => n)
    .sort(([a], [b]) => severityRank(b) - severityRank(a))
    .map(([s, n]) => `${n} ${s}`)
    .join(', ');
}
