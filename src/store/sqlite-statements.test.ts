import assert from 'node:assert/strict';
import { test } from 'node:test';
import SQLite from 'better-sqlite3';
import { CachingSqliteDatabase } from './sqlite-statements.ts';

test('prepared statements are reused per SQL text, bounded, and never handed out while busy', () => {
  const db = new CachingSqliteDatabase(new SQLite(':memory:'), 2);
  try {
    db.prepare('create table t (x integer)').run([]);
    const insert = db.prepare('insert into t (x) values (?)');
    for (let i = 0; i < 5; i++) assert.equal(db.prepare('insert into t (x) values (?)'), insert);
    insert.run([1]);
    insert.run([2]);
    insert.run([3]);
    const select = 'select x from t order by x';
    assert.deepEqual(db.prepare(select).all([]), [{ x: 1 }, { x: 2 }, { x: 3 }]);

    // A statement being iterated is busy: the same text gets a fresh statement meanwhile.
    const iter = db.prepare(select).iterate([]);
    assert.deepEqual(iter.next().value, { x: 1 });
    assert.deepEqual(db.prepare(select).all([]), [{ x: 1 }, { x: 2 }, { x: 3 }]);
    assert.deepEqual([...iter], [{ x: 2 }, { x: 3 }]);

    // At most 2 statements kept: the least recently used one goes.
    db.prepare('select 1 as one');
    db.prepare('select 2 as two');
    assert.equal(db.size, 2);
    assert.notEqual(db.prepare('insert into t (x) values (?)'), insert);
    assert.ok(db.stats.hits >= 5);

    // And at most maxChars of SQL text.
    const small = new CachingSqliteDatabase(db.database, 10, 40);
    small.prepare('select 1 as a, 2 as b');
    small.prepare('select 3 as c, 4 as d');
    assert.equal(small.size, 1, 'two 21-character texts exceed 40');
    small.prepare(`select '${'x'.repeat(50)}' as long`);
    assert.equal(small.size, 1, 'a text longer than the budget is not kept and evicts nothing');
  } finally {
    db.close();
  }
});
