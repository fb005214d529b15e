import type { AlertMessage } from './message.ts';

/** What `drivewarden channels test` sends: an obviously harmless alert in the usual shape. */
export function testMessage(channelName: string, appUrl: string | null, now = new Date()): AlertMessage {
  const at = now.toISOString();
  return {
    id: `test-${now.getTime()}`,
    policy: `channel test (${channelName})`,
    kind: 'alert',
    title: 'drivewarden test alert',
    severity: 'info',
    count: 1,
    bySeverity: { info: 1 },
    items: [
      {
        source: 'finding',
        sourceId: 0,
        event: 'opened',
        severity: 'info',
        title: 'Test alert: this channel works',
        ruleId: null,
        detector: 'drivewarden channels test',
        integration: '—',
        resourceType: 'drive_item',
        resourceId: 'test',
        resourceName: 'example.txt',
        resourcePath: '/drivewarden/example.txt',
        owner: null,
        resourceUrl: null,
        changed: null,
        reason: 'Sent by `drivewarden channels test`; no action needed.',
        actor: null,
        at,
        appUrl,
      },
    ],
    digestReason: null,
    appUrl,
    createdAt: at,
  };
}
