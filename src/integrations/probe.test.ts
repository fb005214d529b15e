import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GraphError } from '../graph/errors.ts';
import type { GraphClient, GraphRequest } from '../graph/types.ts';
import { capabilities } from '../resources/capabilities.ts';
import { resources } from '../resources/index.ts';
import { PROBES, probeIntegration } from './probe.ts';

/** A Graph that answers every probe, except 403 on the URLs matching `denied`. */
function fakeClient(denied?: RegExp): { client: GraphClient; urls: string[] } {
  const urls: string[] = [];
  const client = {
    async request(req: GraphRequest) {
      urls.push(req.url);
      if (denied?.test(req.url))
        throw new GraphError({ status: 403, code: 'Authorization_RequestDenied', message: 'denied' });
      const body = req.url.startsWith('/users?') ? { value: [{ id: 'u1' }] } : { id: 'x1', value: [] };
      return { status: 200, headers: {}, body };
    },
  } as unknown as GraphClient;
  return { client, urls };
}

test('every permission a resource type needs is probed', () => {
  const probed = new Set(
    capabilities()
      .filter((c) => PROBES[c.capability])
      .map((c) => c.permission),
  );
  for (const def of resources) {
    for (const p of def.graph.permissions)
      assert.ok(probed.has(p.permission), `${def.type}: ${p.permission}`);
  }
  for (const name of Object.keys(PROBES))
    assert.ok(
      capabilities().some((c) => c.capability === name),
      `probe ${name} belongs to a capability`,
    );
});

test('the probe reports each capability with the permission and use its definition names', async () => {
  const { client } = fakeClient(/signInActivity/);
  const results = await probeIntegration(client, 'tenant');
  assert.deepEqual(
    results.map((r) => [r.capability, r.status]),
    [
      ['user', 'granted'],
      ['signInActivity', 'missing'],
      ['user_mfa', 'granted'],
      ['group', 'granted'],
      ['drive', 'granted'],
      ['drive_item', 'granted'],
      ['permission', 'granted'],
      ['sensitivity_label', 'granted'],
      ['tenant_settings', 'granted'],
      ['subscriptions', 'granted'],
      ['remediation', 'granted'],
      ['audit', 'granted'],
    ],
  );
  const user = resources.find((r) => r.type === 'user');
  assert.equal(results[0].permission, user?.graph.permissions[0].permission);
  assert.equal(results[0].neededFor, user?.graph.permissions[0].neededFor);
  assert.match(results[1].detail ?? '', /Authorization_RequestDenied/);
});
