import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApi, type TestApi } from '../../../test/support/api.ts';
import { testDialects } from '../../../test/support/store.ts';
import { applyOutcome, type FindingInput } from '../../rules/findings.ts';

/** Reads a server-sent event stream until `until` says enough; returns the events seen. */
async function readEvents(
  url: string,
  token: string,
  until: (events: { type: string; data: Record<string, unknown> }[]) => boolean,
  act: () => Promise<void>,
): Promise<{ type: string; data: Record<string, unknown> }[]> {
  const controller = new AbortController();
  const res = await fetch(new URL('/api/v1/events', url), {
    headers: { authorization: `Bearer ${token}` },
    signal: controller.signal,
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const events: { type: string; data: Record<string, unknown> }[] = [];
  let buffer = '';
  let acted = false;
  const deadline = Date.now() + 10_000;
  try {
    while (Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const type = /^event: (.+)$/m.exec(block)?.[1];
        const data = /^data: (.+)$/m.exec(block)?.[1];
        if (type && data) events.push({ type, data: JSON.parse(data) });
        end = buffer.indexOf('\n\n');
      }
      // The stream is subscribed once the first comment arrived: act then.
      if (!acted) {
        acted = true;
        await act();
      }
      if (until(events)) break;
    }
  } finally {
    controller.abort();
  }
  return events;
}

const finding = (key: string, name: string): FindingInput => ({
  key,
  resource_type: 'drive_item',
  resource_id: key,
  drive_id: 'd1',
  item_id: key,
  result: 'alarm',
  severity: 'high',
  reason: `anyone link on ${name}`,
  details: {},
  resource_name: name,
  resource_path: `/Shared/${name}`,
  resource_owner: 'alice@contoso.com',
});

for (const dialect of testDialects()) {
  describe(`live events and metrics (${dialect})`, () => {
    let api: TestApi;
    before(async () => {
      api = await startTestApi({ dialect, api: { liveEventsIntervalMs: 50 } });
    });
    after(() => api?.close());

    test('a finding opened after the client connected arrives as a `finding` event; older ones do not', async () => {
      const { db } = api.app.store;
      const write = (keys: string[]) =>
        db.transaction().execute((trx) =>
          applyOutcome(
            {
              db: trx,
              dialect: api.app.store.dialect,
              integrationId: 'int-1',
              now: new Date().toISOString(),
              suppressions: [],
            },
            {
              rule: { id: 'permission_anonymous_link_absent' },
              results: new Map(keys.map((k) => [k, finding(k, `${k}.xlsx`)])),
              covers: new Set(),
            },
          ),
        );
      await write(['before']);
      const events = await readEvents(
        api.url,
        api.viewer.token as string,
        (seen) => seen.some((e) => e.type === 'finding'),
        async () => {
          await write(['payroll']);
        },
      );
      const findings = events.filter((e) => e.type === 'finding');
      assert.deepEqual(
        findings.map((e) => [e.data.event, e.data.resourceName, e.data.resourcePath, e.data.severity]),
        [['opened', 'payroll.xlsx', '/Shared/payroll.xlsx', 'high']],
      );
    });

    test('the event stream refuses anonymous callers', async () => {
      const res = await api.anon.get('/api/v1/events');
      assert.equal(res.status, 401);
    });

    test('/metrics gives open findings by severity to a viewer; /readyz is public', async () => {
      const metrics = await api.viewer.get('/metrics');
      assert.match(metrics.text, /^dw_open_findings\{severity="high"\} [1-9]/m);
      assert.match(metrics.text, /^# TYPE dw_webhook_ack_seconds histogram/m);
      assert.equal((await api.anon.get('/metrics')).status, 401);
      const ready = await api.anon.get('/readyz');
      assert.deepEqual([ready.status, ready.body.status], [200, 'ready']);
    });
  });
}
