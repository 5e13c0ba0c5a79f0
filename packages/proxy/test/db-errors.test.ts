/** Which database failures mean "the database is away" (503, mapping writes retried) and which stay what they are. */
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { isPostgresUnavailable, isSqliteBusy } from '../src/db/errors.ts';

test('PostgreSQL: a restart, a refused or lost connection, a timeout or a deadlock are the database away; SQL errors are not', () => {
  const away = [
    Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
    Object.assign(new Error('the database system is starting up'), { code: '57P03' }),
    Object.assign(new Error('sorry, too many clients already'), { code: '53300' }),
    Object.assign(new Error('connection failure'), { code: '08006' }),
    Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' }),
    Object.assign(new Error('deadlock detected'), { code: '40P01' }),
    Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
    new Error('Connection terminated unexpectedly'),
    new Error('timeout exceeded when trying to connect'),
    new Error('Query read timeout'),
    new Error('Client has encountered a connection error and is not queryable'),
  ];
  for (const e of away) assert.equal(isPostgresUnavailable(e), true, e.message);
  const not = [
    Object.assign(new Error('duplicate key value violates unique constraint'), { code: '23505' }),
    Object.assign(new Error('relation "x" does not exist'), { code: '42P01' }),
    new TypeError('x is not a function'),
    undefined,
  ];
  for (const e of not) assert.equal(isPostgresUnavailable(e), false, String(e));
});

test('SQLite: busy and locked (with their extended codes) are the database away; other errors are not', () => {
  const a = new DatabaseSync(':memory:');
  const err = (sql: string) => {
    try {
      a.exec(sql);
    } catch (e) {
      return e;
    }
    throw new Error(`no error from ${sql}`);
  };
  assert.equal(isSqliteBusy(err('SELECT * FROM nowhere')), false);
  assert.equal(
    isSqliteBusy(Object.assign(new Error('database is locked'), { code: 'ERR_SQLITE_ERROR', errcode: 5 })),
    true,
  );
  assert.equal(
    isSqliteBusy(Object.assign(new Error('busy snapshot'), { code: 'ERR_SQLITE_ERROR', errcode: 517 })),
    true,
  );
  assert.equal(isSqliteBusy(Object.assign(new Error('table locked'), { code: 'ERR_SQLITE_ERROR', errcode: 6 })), true);
  assert.equal(isSqliteBusy(Object.assign(new Error('constraint'), { code: 'ERR_SQLITE_ERROR', errcode: 19 })), false);
  a.close();
});
