import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { BACKGROUND_RESERVE, classifyRequest, estimateRu, RuPacer } from './ru.ts';

const G = 'https://graph.microsoft.com/v1.0';

describe('RU prices (docs/graph-behaviour.md)', () => {
  const cases: Array<[string, string, number, string]> = [
    ['GET', `${G}/drives/d1/items/i1/permissions`, 5, 'permission list'],
    ['DELETE', `${G}/drives/d1/items/i1/permissions/p1`, 5, 'permission removal'],
    ['GET', `${G}/drives/d1/items/i1/permissions?$skiptoken=x`, 5, 'permission page'],
    ['GET', `${G}/drives/d1/root/delta`, 2, 'delta without token'],
    ['GET', `${G}/drives/d1/root/delta?$select=id,name&$top=999`, 2, 'delta with params, no token'],
    ['GET', `${G}/drives/d1/root/delta?token=abc`, 1, 'delta with token'],
    ['GET', `${G}/drives/d1/root/microsoft.graph.delta(token='abc')?$top=5`, 1, 'delta(token=) form'],
    ['GET', `${G}/users/delta?$deltatoken=abc`, 2, 'directory delta: priced like a list'],
    ['GET', `${G}/users/delta?$skiptoken=abc`, 2, 'directory delta next page'],
    ['GET', `${G}/drives/d1/root/delta?token=latest`, 1, 'delta token=latest'],
    ['GET', `${G}/reports/authenticationMethods/userRegistrationDetails`, 2, 'MFA report'],
    ['GET', `${G}/drives/d1/root`, 1, 'drive root'],
    ['GET', `${G}/users`, 2, 'list'],
    ['GET', `${G}/users?$select=id&$top=999`, 2, 'list with $top'],
    ['GET', `${G}/groups/g1/transitiveMembers`, 2, 'members list'],
    ['GET', `${G}/drives/d1/items/i1/children`, 2, 'children'],
    ['GET', `${G}/users/u1`, 1, 'single user'],
    ['GET', `${G}/users/u1/drive`, 1, 'single drive'],
    ['GET', `${G}/drives/d1/items/i1`, 1, 'single item'],
    ['GET', `${G}/users/u1/manager`, 1, 'manager'],
    ['POST', `${G}/subscriptions`, 2, 'write'],
    ['PATCH', `${G}/subscriptions/s1`, 2, 'write'],
    ['POST', `${G}/$batch`, 0, 'batch envelope'],
  ];
  for (const [method, url, ru, what] of cases) {
    it(`${what}: ${method} ${url.slice(G.length)} = ${ru} RU`, () => {
      assert.equal(estimateRu(method, url), ru, classifyRequest(method, url));
    });
  }
  it('the management API is not priced in RU', () => {
    assert.equal(
      estimateRu(
        'GET',
        'https://manage.office.com/api/v1.0/t/activity/feed/subscriptions/content',
        'management',
      ),
      0,
    );
  });
});

/** Lets promise callbacks (grants, settles) run: the mocked clock does not move meanwhile. */
const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
};

// The pacer reads Date.now() and sets timers: both are simulated here, so what is granted when
// does not depend on how busy the machine is.
describe('RuPacer', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 }));
  afterEach(() => mock.timers.reset());

  /** Moves the simulated clock 1 ms at a time until `done` holds. */
  const tickUntil = async (done: () => boolean) => {
    for (let ms = 0; !done(); ms++) {
      if (ms > 10_000) throw new Error('10 simulated seconds passed');
      mock.timers.tick(1);
      await settle();
    }
  };

  it('never lets more than the budget through in any window, FIFO, and no later than needed', async () => {
    const pacer = new RuPacer(10, 600, 0); // window = 100 ms
    const grants: Array<{ at: number; ru: number }> = [];
    const sizes = [5, 1, 1, 5, 5, 1, 5, 1, 5, 5];
    for (const ru of sizes)
      void pacer.acquire(ru).then((ticket) => {
        grants.push({ at: Date.now(), ru });
        ticket.settle();
      });
    await settle();
    await tickUntil(() => grants.length === sizes.length);
    // FIFO: grants come in request order.
    assert.deepEqual(
      grants.map((g) => g.ru),
      sizes,
    );
    for (const g of grants) {
      const inWindow = grants.filter((h) => h.at > g.at - 100 && h.at <= g.at).reduce((s, h) => s + h.ru, 0);
      assert.ok(inWindow <= 10, `at ${g.at} ms the window held ${inWindow} RU`);
    }
    // 34 RU at 10 RU / 100 ms cannot finish before ~300 ms, and the pacer waits no longer:
    // each grant comes 1 ms after the RU it needs came back.
    assert.deepEqual(
      grants.map((g) => g.at),
      [0, 0, 0, 101, 101, 202, 202, 202, 303, 303],
    );
    pacer.close();
  });

  it('counts a request from its completion: in-flight RU never expire', async () => {
    const pacer = new RuPacer(5, 600, 0); // window 100 ms
    const first = await pacer.acquire(5);
    let grantedAt: number | undefined;
    const second = pacer.acquire(5).then((t) => {
      grantedAt = Date.now();
      return t;
    });
    mock.timers.tick(150);
    await settle();
    assert.equal(grantedAt, undefined, 'still in flight after more than a window');
    const settledAt = Date.now();
    first.settle();
    await tickUntil(() => grantedAt !== undefined);
    (await second).settle();
    assert.ok(grantedAt! - settledAt >= 100, 'granted one window after the first completed');
    pacer.close();
  });

  it('refund gives RU back', async () => {
    const pacer = new RuPacer(5, 60, 0); // window 1 s
    const ticket = await pacer.acquire(5);
    assert.equal(pacer.inWindow(), 5);
    ticket.refund();
    assert.equal(pacer.inWindow(), 0);
    const t = Date.now();
    (await pacer.acquire(5)).settle();
    assert.equal(Date.now() - t, 0, 'granted at once, without waiting for the window');
    pacer.close();
  });

  it('a request larger than the budget is clamped, not blocked forever', async () => {
    const pacer = new RuPacer(3, 600, 0);
    (await pacer.acquire(100)).settle();
    assert.equal(pacer.inWindow(), 3);
    pacer.close();
  });

  it('background requests use only what normal ones leave, and keep the reserve free', async () => {
    const pacer = new RuPacer(100, 600, 0); // window 100 ms
    const order: string[] = [];
    const take = (name: string, ru: number, priority?: 'background') =>
      pacer.acquire(ru, priority).then((t) => {
        order.push(`${name}@${Date.now()}`);
        t.settle();
      });
    // Background fills the window up to the budget less the reserve, never beyond.
    const background = [take('b1', 50, 'background'), take('b2', 41, 'background')];
    await settle();
    assert.equal(BACKGROUND_RESERVE, 0.1);
    assert.deepEqual(order, ['b1@0'], '50 + 41 RU would eat into the reserve of 10');
    assert.equal(pacer.inWindow(), 50);
    // A normal request gets the reserve at once, and goes before the background one waiting.
    const normal = [take('n1', 40), take('n2', 20)];
    await settle();
    assert.deepEqual(order, ['b1@0', 'n1@0'], 'n1 fits in the budget at once');
    assert.equal(pacer.inWindow(), 90);
    await tickUntil(() => order.length === 4);
    assert.deepEqual(order, ['b1@0', 'n1@0', 'n2@101', 'b2@101'], 'the normal waiter first');
    await Promise.all([...background, ...normal]);
    pacer.close();
  });

  it('a background request larger than the budget less the reserve still goes, alone', async () => {
    const pacer = new RuPacer(10, 600, 0);
    let granted = false;
    void pacer.acquire(10, 'background').then((t) => {
      granted = true;
      t.settle();
    });
    await settle();
    assert.ok(granted);
    pacer.close();
  });
});
