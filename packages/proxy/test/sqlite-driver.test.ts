/**
 * The proxy's SQLite driver (src/db/sqlite-driver.ts) with another connection holding the write lock: the event
 * loop keeps turning, lookups answer at once, a write waits for the lock and then lands, and a write that cannot get
 * it within `busyWaitMs` fails as the database being unavailable (OcxError UNREACHABLE, what the engine answers 503 and retries).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, test } from 'node:test';
import { isDatabaseUnavailable } from '../src/db/errors.ts';
import { openDatabase } from '../src/db/open.ts';

const dir = mkdtempSync(join(tmpdir(), 'ocx-sqlite-driver-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function holdLock(file: string, ms: number): Promise<void> {
  const other = new DatabaseSync(file);
  other.exec('BEGIN IMMEDIATE');
  return new Promise((r) =>
    setTimeout(() => {
      other.exec('COMMIT');
      other.close();
      r();
    }, ms),
  );
}

/** The longest gap between ticks of a 10 ms interval while `work` runs: how long the event loop was held. */
async function longestStall<T>(work: Promise<T>): Promise<{ value: T; stallMs: number }> {
  let last = performance.now();
  let worst = 0;
  const t = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
  }, 10);
  try {
    return { value: await work, stallMs: Math.round(worst) };
  } finally {
    clearInterval(t);
  }
}

const row = (id: string) => ({
  project_id: 'p',
  resource_type: 'servers',
  resource_id: id,
  target_id: 'sp1',
  updated_at: 1,
});

test('a lock held elsewhere: reads answer at once, a write waits without holding the event loop, then lands', async () => {
  const file = join(dir, 'wait.sqlite');
  const db = await openDatabase(file);
  try {
    await db.db.insertInto('project_resource_mappings').values(row('before')).execute();
    const released = holdLock(file, 1_500);
    const t0 = Date.now();
    const read = await db.db.selectFrom('project_resource_mappings').selectAll().execute();
    const readMs = Date.now() - t0;
    const write = await longestStall(
      db.db.transaction().execute(async (tx) => {
        await tx.insertInto('project_resource_mappings').values(row('during')).execute();
      }),
    );
    const writeMs = Date.now() - t0;
    await released;
    assert.deepEqual(
      read.map((r) => r.resource_id),
      ['before'],
    );
    assert.ok(readMs < 500, `the read waited ${readMs} ms`);
    assert.ok(writeMs >= 1_300, `the write landed after the lock went (${writeMs} ms)`);
    assert.ok(write.stallMs < 300, `the event loop was held ${write.stallMs} ms`);
    const all = await db.db.selectFrom('project_resource_mappings').select('resource_id').execute();
    assert.deepEqual(all.map((r) => r.resource_id).sort(), ['before', 'during']);
    console.log(`# read ${readMs} ms, write ${writeMs} ms, longest event-loop stall ${write.stallMs} ms`);
  } finally {
    await db.close();
  }
});

test('a lock held past busyWaitMs: the write fails as the database being unavailable, and the next one works', async () => {
  const file = join(dir, 'past.sqlite');
  const db = await openDatabase(file, { busyWaitMs: 300 });
  try {
    const released = holdLock(file, 1_200);
    const { value: err, stallMs } = await longestStall(
      db.db
        .insertInto('project_resource_mappings')
        .values(row('x'))
        .execute()
        .then(
          () => undefined,
          (e: unknown) => e,
        ),
    );
    assert.ok(isDatabaseUnavailable(err), String(err));
    assert.match(err.message, /SQLite database is unavailable \(busy/);
    assert.ok(stallMs < 300, `the event loop was held ${stallMs} ms`);
    // A failed transaction leaves the writer free for the next one.
    await assert.rejects(
      db.db.transaction().execute(async (tx) => {
        await tx.insertInto('project_resource_mappings').values(row('y')).execute();
      }),
      (e) => isDatabaseUnavailable(e),
    );
    await released;
    await db.db.insertInto('project_resource_mappings').values(row('z')).execute();
    const all = await db.db.selectFrom('project_resource_mappings').select('resource_id').execute();
    assert.deepEqual(
      all.map((r) => r.resource_id),
      ['z'],
    );
  } finally {
    await db.close();
  }
});

test('an in-memory database (one connection for reads and writes) keeps what was written', async () => {
  const db = await openDatabase(':memory:');
  try {
    await db.db.insertInto('project_resource_mappings').values(row('m')).execute();
    const all = await db.db.selectFrom('project_resource_mappings').select('resource_id').execute();
    assert.deepEqual(
      all.map((r) => r.resource_id),
      ['m'],
    );
  } finally {
    await db.close();
  }
});

test('transactions take turns on the writer; one that throws leaves nothing behind and the writer free', async () => {
  const db = await openDatabase(join(dir, 'turns.sqlite'));
  try {
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) =>
        db.db.transaction().execute(async (tx) => {
          await tx
            .insertInto('project_resource_mappings')
            .values(row(`t${i}`))
            .execute();
          await new Promise((r) => setTimeout(r, 5)); // another transaction would interleave here if it could
          await tx
            .insertInto('project_resource_mappings')
            .values(row(`t${i}b`))
            .execute();
          if (i === 2) throw new Error('the caller gave up');
        }),
      ),
    );
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled'],
    );
    const all = (await db.db.selectFrom('project_resource_mappings').select('resource_id').execute())
      .map((r) => r.resource_id)
      .sort();
    assert.deepEqual(all, ['t0', 't0b', 't1', 't1b', 't3', 't3b', 't4', 't4b', 't5', 't5b']);
  } finally {
    await db.close();
  }
});
