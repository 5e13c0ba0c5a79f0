/**
 * SQLite busy (issue 16): another connection holds the proxy database's write lock while clients create resources
 * and read through the proxy. The proxy never waits for the lock on its event loop (db/sqlite-driver.ts): reads
 * meanwhile are answered at once, creates wait (asynchronously) and are acknowledged once their mapping is stored —
 * each acknowledged one has its row in the database. A lock held past every retry undoes the create at its cloud
 * and answers 503 saying so: nothing acknowledged is unmapped, nothing unacknowledged is left behind.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, test } from 'node:test';
import { type RunningProxy, startProxy } from '../src/index.ts';
import { spawnProxy, startWorld, type World } from './helpers.ts';

let w: World;
let url: string;
let stopChild: () => Promise<void>;
let dbPath: string;

before(async () => {
  w = await startWorld();
  dbPath = join(w.dir, 'busy.sqlite');
  const p = await spawnProxy(w, ['--db', dbPath, '--data-plane', 'node', '--log-level', 'warn']);
  url = p.url;
  stopChild = async () => {
    p.child.kill('SIGTERM');
    await new Promise((r) => p.child.once('exit', r));
  };
});
after(async () => {
  await stopChild?.();
  await w?.stop();
});

async function call(base: string, method: string, path: string, body?: unknown, sp?: string) {
  const t0 = Date.now();
  const headers: Record<string, string> = { 'x-auth-token': w.token, 'content-type': 'application/json' };
  if (sp) headers['mm-service-provider'] = sp;
  const r = await fetch(`${base}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await r.text();
  return { status: r.status, ms: Date.now() - t0, text };
}

/** Another process's write transaction on the file, held for `ms`. */
function holdLock(file: string, ms: number): Promise<void> {
  const other = new DatabaseSync(file);
  other.exec('PRAGMA busy_timeout = 0; BEGIN IMMEDIATE');
  return new Promise<void>((r) =>
    setTimeout(() => {
      other.exec('COMMIT');
      other.close();
      r();
    }, ms),
  );
}

function mappingOf(file: string, id: string, type = 'networks'): string | undefined {
  const sql = new DatabaseSync(file, { readOnly: true });
  try {
    const row = sql
      .prepare('SELECT target_id FROM project_resource_mappings WHERE resource_type = ? AND resource_id = ?')
      .get(type, id) as { target_id: string } | undefined;
    return row?.target_id;
  } finally {
    sql.close();
  }
}

const targets = ['default', 'sp1', 'sp2', 'sp1'];
const targetIds: Record<string, string> = { default: 'idp-admin', sp1: 'sp1', sp2: 'sp2' };

for (const holdMs of [2_000, 7_000]) {
  test(`a write lock held ${holdMs / 1000} s by another connection: reads go on, every create is acknowledged and mapped`, async () => {
    const warm = await call(url, 'GET', '/compute/v2.1/flavors');
    assert.equal(warm.status, 200);
    const released = holdLock(dbPath, holdMs);
    const creates = targets.map((sp, i) =>
      call(url, 'POST', '/network/v2.0/networks', { network: { name: `busy-${holdMs}-${i}` } }, sp),
    );
    await new Promise((r) => setTimeout(r, 200));
    const read = await call(url, 'GET', '/compute/v2.1/flavors');
    const done = await Promise.all(creates);
    await released;
    // 7 s is past the driver's 5 s wait: the create's mapping write is retried (engine/learn.ts) and gets through.
    for (const d of done) assert.equal(d.status, 201, d.text.slice(0, 300));
    for (const [i, d] of done.entries()) {
      const id = (JSON.parse(d.text) as { network: { id: string } }).network.id;
      assert.equal(mappingOf(dbPath, id), targetIds[targets[i]!], `mapping row of acknowledged network ${id}`);
      const again = await call(url, 'GET', `/network/v2.0/networks/${id}`);
      assert.equal(again.status, 200, again.text.slice(0, 200));
      assert.equal((await call(url, 'DELETE', `/network/v2.0/networks/${id}`)).status, 204);
    }
    assert.equal(read.status, 200, read.text.slice(0, 200));
    assert.ok(read.ms < 1_000, `a read while the lock is held is not held up by it (${read.ms} ms)`);
    const creates201 = done.map((d) => d.ms);
    assert.ok(Math.min(...creates201) >= holdMs - 400, 'the creates did wait for the lock');
    console.log(
      `# lock ${holdMs} ms: creates ${done.map((d) => `${d.status}/${d.ms}ms`).join(' ')}; a read meanwhile ${read.status} in ${read.ms} ms; ${done.length} acknowledged, all mapped`,
    );
  });
}

test('a lock held past every retry: a POST create is deleted again at its cloud, a PUT is to be sent again, each answered 503 saying so', async () => {
  let p: RunningProxy | undefined;
  const file = join(w.dir, 'undo.sqlite');
  try {
    p = await startProxy({
      homeCloud: 'idp-admin',
      cloudsFile: w.cloudsYaml,
      listen: '127.0.0.1:0',
      db: file,
      logLevel: 'silent',
      dbBusyWaitMs: 200,
      mappingWriteRetryMs: 600,
    });
    assert.equal((await call(p.url, 'GET', '/compute/v2.1/flavors')).status, 200);
    const released = holdLock(file, 3_000);
    const name = `undone-${Date.now()}`;
    const create = call(p.url, 'POST', '/network/v2.0/networks', { network: { name } }, 'sp2');
    // A PUT that creates (a Swift container) cannot be undone blindly, but it can be sent again: 503 saying so.
    const container = `/object-store/v1/AUTH_${w.projectId}/busy-${Date.now()}`;
    const put = call(p.url, 'PUT', container, undefined, 'sp1');
    const read = await call(p.url, 'GET', '/compute/v2.1/flavors');
    const r = await create;
    const putR = await put;
    assert.equal(putR.status, 503, putR.text);
    assert.match(putR.text, /was made at sp1, but the federation proxy could not record it .*send the request again/);
    assert.equal(r.status, 503, r.text);
    const fault = JSON.parse(r.text) as { NeutronError: { message: string } };
    assert.match(fault.NeutronError.message, /could not record the new networks [0-9a-f-]+ .*deleted it again at sp2/);
    assert.ok(r.ms < 2_900, `answered before the lock went (${r.ms} ms)`);
    assert.equal(read.status, 200);
    const sp2 = w.direct.sp2!;
    const list = await fetch(`${sp2.endpoints.network}/v2.0/networks?name=${name}`, {
      headers: { 'x-auth-token': sp2.token },
    });
    assert.deepEqual(((await list.json()) as { networks: unknown[] }).networks, [], 'nothing left at sp2');
    await released;
    const again = await call(p.url, 'POST', '/network/v2.0/networks', { network: { name } }, 'sp2');
    assert.equal(again.status, 201, 'serving after the lock');
    const id = (JSON.parse(again.text) as { network: { id: string } }).network.id;
    assert.equal(mappingOf(file, id), 'sp2');
    const putAgain = await call(p.url, 'PUT', container, undefined, 'sp1');
    assert.ok(putAgain.status === 201 || putAgain.status === 202, `the PUT sent again: ${putAgain.status}`);
    assert.equal(mappingOf(file, `${w.projectId}/${container.split('/').pop()}`, 'containers'), 'sp1');
    assert.equal((await call(p.url, 'DELETE', container, undefined, 'sp1')).status, 204);
    assert.equal((await call(p.url, 'DELETE', `/network/v2.0/networks/${id}`)).status, 204);
    console.log(`# lock past the retries: 503 in ${r.ms} ms, read meanwhile ${read.ms} ms`);
  } finally {
    await p?.stop();
  }
});
