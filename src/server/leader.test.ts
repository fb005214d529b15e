import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import pg from 'pg';
import { TEST_PG_URL, testDialects } from '../../test/support/store.ts';
import { waitFor } from '../../test/support/wait.ts';
import { createLogger } from '../util/logger.ts';
import { electLeader, soleLeader } from './leader.ts';

const logger = createLogger('silent');

/** The server process holding the leader lock of `namespace` (the lock's two int32 halves as PgAdvisoryLocks makes them). */
async function leaderBackend(namespace: string): Promise<number | undefined> {
  const d = createHash('sha256').update(`${namespace}\u0000serve:leader`).digest();
  const c = new pg.Client({ connectionString: TEST_PG_URL });
  await c.connect();
  try {
    const { rows } = await c.query<{ pid: number }>(
      `select pid from pg_locks where locktype = 'advisory' and granted and objsubid = 2
         and classid::bigint = $1::bigint and objid::bigint = $2::bigint`,
      [d.readInt32BE(0) >>> 0, d.readInt32BE(4) >>> 0],
    );
    return rows[0]?.pid;
  } finally {
    await c.end();
  }
}

async function terminate(pid: number): Promise<void> {
  const c = new pg.Client({ connectionString: TEST_PG_URL });
  await c.connect();
  try {
    await c.query('select pg_terminate_backend($1)', [pid]);
  } finally {
    await c.end();
  }
}

describe('leader election', () => {
  it('SQLite: the only process leads', async () => {
    const l = soleLeader();
    assert.equal(l.isLeader(), true);
    await l.acquired;
  });

  if (testDialects().includes('postgres'))
    it('PostgreSQL: one leads; a follower takes over when the leader stops or its session dies', async () => {
      const namespace = `leader_${randomBytes(4).toString('hex')}`;
      const lost: Error[] = [];
      const open = () =>
        electLeader({
          databaseUrl: TEST_PG_URL,
          namespace,
          logger,
          retryMs: 100,
          onLost: (e) => lost.push(e),
        });
      const a = await open();
      const b = await open();
      const c = await open();
      try {
        assert.equal(a.isLeader(), true);
        assert.equal(b.isLeader(), false);
        assert.equal(c.isLeader(), false);
        // Still so after several tries of the followers.
        await new Promise((r) => setTimeout(r, 500));
        assert.deepEqual([a.isLeader(), b.isLeader(), c.isLeader()], [true, false, false]);

        // A clean stop frees the lock: exactly one follower takes over.
        await a.close();
        await waitFor('a follower leads', async () => b.isLeader() || c.isLeader(), { timeoutMs: 10_000 });
        await new Promise((r) => setTimeout(r, 300));
        assert.equal(Number(b.isLeader()) + Number(c.isLeader()), 1, 'one leader');
        const [leader, follower] = b.isLeader() ? [b, c] : [c, b];
        await leader.acquired;

        // The leader's session ends as with kill -9: it is told (serve exits), the other leads.
        const pid = await leaderBackend(namespace);
        assert.ok(pid, 'the leader lock is held');
        await terminate(pid);
        await waitFor('the leader told it lost its session', async () => lost.length === 1, {
          timeoutMs: 10_000,
        });
        await waitFor('the follower leads', async () => follower.isLeader(), { timeoutMs: 10_000 });
        await follower.acquired;
        assert.notEqual(await leaderBackend(namespace), pid);
      } finally {
        await Promise.all([a.close(), b.close(), c.close()]);
      }
    });
});
