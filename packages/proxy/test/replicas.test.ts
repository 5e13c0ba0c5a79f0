import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, test } from 'node:test';
import { type RunningProxy, startProxy } from '../src/index.ts';
import { spawnProxy, startWorld, type World } from './helpers.ts';

let w: World;
let b: RunningProxy;

before(async () => {
  w = await startWorld();
  // A second replica on the same SQLite file (WAL), as two processes behind one address would be.
  b = await startProxy({
    homeCloud: 'idp-admin',
    cloudsFile: w.cloudsYaml,
    listen: '127.0.0.1:0',
    db: join(w.dir, 'proxy.sqlite'),
    logLevel: 'silent',
    validationCacheMs: 0,
  });
});
after(async () => {
  await b?.stop();
  await w?.stop();
});

const lookups = async (p: RunningProxy, kind: string, result: string) => {
  const m = new RegExp(`ocx_proxy_mapping_lookups_total\\{kind="${kind}",result="${result}"\\} (\\d+)`).exec(
    await (await fetch(`${p.url}/metrics`)).text(),
  );
  return m ? Number(m[1]) : 0;
};

test('a resource created through one replica is found by the other from the shared mappings, with no K2K and no flooding', async () => {
  const r = await w.call('/network/v2.0/networks', {
    method: 'POST',
    headers: { 'mm-service-provider': 'sp2' },
    json: { network: { name: 'replica-net' } },
  });
  assert.equal(r.status, 201);
  const id = ((await r.json()) as { network: { id: string } }).network.id;
  const viaB = await fetch(`${b.url}/network/v2.0/networks/${id}`, { headers: { 'x-auth-token': w.token } });
  assert.equal(viaB.status, 200);
  assert.equal(viaB.headers.get('x-ocx-service-provider'), 'sp2');
  assert.equal(((await viaB.json()) as { network: { name: string } }).network.name, 'replica-net');
  assert.equal(await lookups(b, 'resource', 'flood_hit'), 0, 'replica B did not flood');
  assert.ok((await lookups(b, 'resource', 'hit')) >= 1);
  assert.equal(
    await lookups(b, 'token', 'miss'),
    0,
    'replica B ran no K2K: the sealed sp2 token came from the database',
  );
  assert.ok((await lookups(b, 'token', 'hit')) >= 1);
});

// The same with two replicas on PostgreSQL, the survivor serving on: postgres-faults.test.ts.
test('kill -9 of a proxy process under load loses no mapping it acknowledged', async () => {
  const db = join(w.dir, 'killed.sqlite');
  const { child, url } = await spawnProxy(w, ['--db', db, '--log-level', 'silent']);
  try {
    const acked: { id: string; target: string }[] = [];
    let stop = false;
    const targets = ['idp-admin', 'sp1', 'sp2'];
    const worker = async (n: number) => {
      for (let i = 0; !stop; i++) {
        const target = targets[(n + i) % 3]!;
        try {
          const r = await fetch(`${url}/network/v2.0/networks`, {
            method: 'POST',
            headers: {
              'x-auth-token': w.token,
              'content-type': 'application/json',
              'mm-service-provider': target === 'idp-admin' ? 'default' : target,
            },
            body: JSON.stringify({ network: { name: `load-${n}-${i}` } }),
          });
          if (r.status === 201)
            acked.push({ id: ((await r.json()) as { network: { id: string } }).network.id, target });
          else await r.body?.cancel();
        } catch {
          return; // the process is gone
        }
      }
    };
    const workers = Array.from({ length: 6 }, (_, n) => worker(n));
    while (acked.length < 40) await new Promise((r) => setTimeout(r, 10));
    child.kill('SIGKILL');
    stop = true;
    await Promise.all(workers);
    const sql = new DatabaseSync(db);
    const rows = new Map(
      (
        sql
          .prepare("SELECT resource_id, target_id FROM project_resource_mappings WHERE resource_type = 'networks'")
          .all() as {
          resource_id: string;
          target_id: string;
        }[]
      ).map((r) => [r.resource_id, r.target_id]),
    );
    sql.close();
    assert.ok(acked.length >= 40);
    for (const a of acked) assert.equal(rows.get(a.id), a.target, `mapping for acknowledged network ${a.id}`);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
});
