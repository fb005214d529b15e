import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TruthRecord } from '../../sim/contracts.ts';
import { encodeValue } from '../../src/store/codec.ts';
import { openStore } from '../../src/store/store.ts';
import { runCli } from './cli.ts';
import { startTestSim, type TestSim } from './simulator.ts';

export type PermTruth = Extract<TruthRecord, { kind: 'permission' }>;

/**
 * The `drivewarden remediate` CLI tests' tenant: a simulator with Anyone links, collected by the
 * real CLI into a data directory of its own, and the open alarm the rules engine would have
 * written for one Anyone link. `dw` runs the real command in a child process (async: the
 * simulator lives in this process).
 */
export interface RemediateCliTenant {
  ts: TestSim;
  dir: string;
  link: PermTruth;
  findingId: number;
  dw(args: string[]): ReturnType<typeof runCli>;
  anyoneLinks(): Promise<PermTruth[]>;
  close(): Promise<void>;
}

export async function remediateCliTenant(): Promise<RemediateCliTenant> {
  const ts = await startTestSim({ users: 8, items: 300, anonymousRatio: 0.05 });
  const dir = mkdtempSync(join(tmpdir(), 'dw-remediate-cli-'));
  const dw = (args: string[]) => runCli(dir, args, { DW_DATABASE_URL: '', DW_CONFIG: '' });
  const anyoneLinks = async () =>
    (await ts.admin.truthArray()).filter(
      (r): r is PermTruth => r.kind === 'permission' && r.linkScope === 'anonymous',
    );
  const simInfo = join(dir, 'sim.json');
  const { close: _close, ...info } = ts.sim;
  writeFileSync(simInfo, JSON.stringify(info));
  const add = await dw(['integrations', 'add', '--name', 'acme', '--sim-info', simInfo]);
  assert.equal(add.status, 0, add.stderr);
  const sync = await dw(['sync', '--once']);
  assert.equal(sync.status, 0, sync.stderr);
  const [link] = await anyoneLinks();
  const store = await openStore({ dataDir: dir });
  let findingId: number;
  try {
    const integration = await store.db.selectFrom('integrations').select('id').executeTakeFirstOrThrow();
    const row = await store.db
      .insertInto('findings')
      .values({
        integration_id: integration.id,
        rule_id: 'permission_anonymous_link_absent',
        resource_type: 'permission',
        resource_key: `${link.driveId}/${link.itemId}/${link.id}`,
        resource_id: link.id,
        drive_id: link.driveId,
        item_id: link.itemId,
        status: 'open',
        result: 'alarm',
        severity: 'high',
        reason: 'Anyone link',
        details: encodeValue('json', {}, store.dialect),
        first_seen: '2026-01-01T00:00:00Z',
        last_seen: '2026-01-01T00:00:00Z',
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    findingId = Number(row.id);
  } finally {
    await store.close();
  }
  return {
    ts,
    dir,
    link,
    findingId,
    dw,
    anyoneLinks,
    async close() {
      await ts.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
