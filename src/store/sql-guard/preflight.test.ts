import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lexSql, statementsOf } from './lexer.ts';
import { MAX_SQL_LENGTH, preflight } from './preflight.ts';

describe('SQL lexer', () => {
  const statements = (text: string, dialect: 'sqlite' | 'postgres') =>
    statementsOf(lexSql(text, dialect)).map((s) => s.map((t) => t.text).join(' '));

  it('sees ; and keywords inside strings, quoted names and comments as text (PostgreSQL)', () => {
    assert.deepEqual(
      statements(
        `select 'a;b', "c;d", $$;$$, $t$ ; $t$, E'\\'; x' from t -- ; x\n/* ; /* ; */ ; */`,
        'postgres',
      ),
      [`select 'a;b' , "c;d" , $$;$$ , $t$ ; $t$ , E'\\'; x' from t`],
    );
    // Without E a backslash is a character: the string ends there.
    assert.equal(statements(`select '\\'; delete from t; --'`, 'postgres').length, 2);
  });

  it('reads SQLite quoting: [names], `names`, comments that do not nest', () => {
    assert.deepEqual(statements('select [a;b], `c;d` from t /* /* */ ; select 2', 'sqlite'), [
      'select [a;b] , `c;d` from t',
      'select 2',
    ]);
  });

  it('keeps :: casts apart from :name parameters', () => {
    const tokens = lexSql('select x::text from t where y = :y and z = $1', 'postgres').tokens;
    assert.deepEqual(
      tokens.filter((t) => t.kind === 'param' || t.text === '::').map((t) => t.text),
      ['::', ':y', '$1'],
    );
  });
});

describe('preflight', () => {
  it('passes one query and strips a trailing ; and comment', () => {
    assert.equal(preflight('select 1; -- done\n', 'sqlite'), 'select 1');
    assert.equal(preflight('(select 1)', 'postgres'), '(select 1)');
    assert.equal(preflight('table drive_items', 'postgres'), 'table drive_items');
  });

  it('refuses what is not one query, by name', () => {
    assert.throws(() => preflight('', 'sqlite'), /^QueryError: refused: empty query$/);
    assert.throws(() => preflight('-- only a comment', 'postgres'), /refused: empty query/);
    assert.throws(() => preflight('select 1; select 2', 'sqlite'), /one statement at a time/);
    assert.throws(() => preflight('  /* x */ PRAGMA x', 'sqlite'), /this statement starts with PRAGMA/);
    assert.throws(() => preflight('(select 1)', 'sqlite'), /this statement starts with \(/);
    assert.throws(() => preflight('select * into t from u', 'postgres'), /SELECT … INTO writes a table/);
    assert.throws(
      () => preflight("select 'x", 'postgres'),
      /SQL error: a string, quoted name or comment is not closed/,
    );
    assert.throws(
      () => preflight(`select '${'x'.repeat(MAX_SQL_LENGTH)}'`, 'sqlite'),
      /longer than 100,000 characters/,
    );
  });
});
