import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { postgresDialect, sqliteDialect } from '../store/dialect.ts';
import { compileParams, parameterNames, SqlParamError } from './sql-params.ts';

describe('rule SQL parameters', () => {
  it('bind scalars and expand lists per dialect, never splicing values into the text', () => {
    const text = 'select 1 where a = :x and b in (:list) and c = :x and d = :flag';
    const params = { x: "o'neil", list: ['a', 'b'], flag: true };
    assert.deepEqual(compileParams(text, params, sqliteDialect), {
      text: 'select 1 where a = ? and b in (?, ?) and c = ? and d = ?',
      values: ["o'neil", 'a', 'b', "o'neil", 1],
    });
    assert.deepEqual(compileParams(text, params, postgresDialect), {
      text: 'select 1 where a = $1 and b in ($2, $3) and c = $4 and d = $5',
      values: ["o'neil", 'a', 'b', "o'neil", true],
    });
  });

  it('turn an empty list into NULL (matches nothing)', () => {
    assert.deepEqual(compileParams('x in (:l)', { l: [] }, sqliteDialect), {
      text: 'x in (NULL)',
      values: [],
    });
  });

  it('leave strings, quoted identifiers, comments and :: casts alone', () => {
    const text = `select ':no', "a:b", x::text -- :comment\n/* :block */ from t where y = :yes`;
    assert.deepEqual(parameterNames(text), ['yes']);
    assert.equal(
      compileParams(text, { yes: 1 }, postgresDialect).text,
      `select ':no', "a:b", x::text -- :comment\n/* :block */ from t where y = $1`,
    );
    assert.deepEqual(parameterNames("select 'it''s :not' || :a"), ['a']);
  });

  it('name an unknown parameter', () => {
    assert.throws(
      () => compileParams('select :missing', {}, sqliteDialect),
      (err: unknown) => {
        assert.ok(err instanceof SqlParamError);
        assert.match(err.message, /:missing/);
        return true;
      },
    );
  });
});
