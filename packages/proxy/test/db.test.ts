import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, test } from 'node:test';
import { openDatabase } from '../src/db/open.ts';
import type { RemoteTokenRequest, RemoteTokenSource } from '../src/k2k.ts';
import type { ValidatedToken } from '../src/keystone.ts';
import { ProxyMetrics } from '../src/metrics.ts';
import { ResourceMappings } from '../src/resource-mappings.ts';
import { TokenMappings } from '../src/token-mappings.ts';

const dir = mkdtempSync(join(tmpdir(), 'ocx-proxy-db-'));
after(() => rmSync(dir, { recursive: true, force: true }));

class CountingSource implements RemoteTokenSource {
  calls = 0;
  readonly remoteExpiresInMs: number;
  constructor(remoteExpiresInMs: number) {
    this.remoteExpiresInMs = remoteExpiresInMs;
  }
  async obtain(req: RemoteTokenRequest) {
    this.calls++;
    return {
      token: `remote-${req.sp.id}-${randomBytes(8).toString('hex')}`,
      expiresAt: new Date(Date.now() + this.remoteExpiresInMs),
      projectId: `proj-at-${req.sp.id}`,
      projectName: req.localProjectName,
      endpoints: { compute: `http://${req.sp.id}.example/compute` },
    };
  }
}

const user = (expiresInMs: number): ValidatedToken => ({
  userId: 'u1',
  userName: 'demo',
  projectId: 'p-local',
  projectName: 'demo',
  projectDomainId: 'default',
  projectDomainName: 'Default',
  roles: ['member'],
  expiresAt: new Date(Date.now() + expiresInMs),
  serviceProviders: [],
});
const sp = { id: 'sp1', auth_url: 'http://sp1/v3/OS-FEDERATION/x', sp_url: 'http://sp1/ecp' };

test('two replicas on one SQLite file share token and resource mappings; the file never holds a token', async () => {
  const file = join(dir, 'shared.sqlite');
  const a = await openDatabase(file);
  const b = await openDatabase(file);
  const pepper = randomBytes(32);
  const srcA = new CountingSource(3_600_000);
  const srcB = new CountingSource(3_600_000);
  const ta = new TokenMappings({ db: a.db, pepper, source: srcA, metrics: new ProxyMetrics() });
  const tb = new TokenMappings({ db: b.db, pepper, source: srcB, metrics: new ProxyMetrics() });
  const local = randomBytes(20).toString('hex');
  const u = user(1_800_000);
  const c1 = await ta.forSp({ localToken: local, hash: ta.hash(local), user: u, sp, deadline: Date.now() + 5000 });
  const c2 = await tb.forSp({ localToken: local, hash: tb.hash(local), user: u, sp, deadline: Date.now() + 5000 });
  assert.equal(srcA.calls, 1);
  assert.equal(srcB.calls, 0, 'the second replica used the stored mapping instead of running K2K again');
  assert.equal(c2.token, c1.token);
  assert.equal(c2.projectId, 'proj-at-sp1');
  // Bounded by the shorter expiry (the local token's here).
  assert.ok(Math.abs(c1.expiresAt - u.expiresAt.getTime()) < 5);

  const ra = new ResourceMappings({ db: a.db, metrics: new ProxyMetrics(), missTtlMs: 1000 });
  const rb = new ResourceMappings({ db: b.db, metrics: new ProxyMetrics(), missTtlMs: 1000 });
  await ra.record([{ type: 'volumes', id: 'v1', targetId: 'sp2', projectId: 'p-local' }]);
  assert.equal(await rb.find('p-local', 'volumes', 'v1'), 'sp2');
  assert.equal(await rb.find('p-other', 'volumes', 'v1'), undefined, "another project does not follow p-local's");
  await rb.forget('p-local', 'volumes', 'v1');
  const fresh = new ResourceMappings({ db: a.db, metrics: new ProxyMetrics(), missTtlMs: 1000 });
  assert.equal(await fresh.find('p-local', 'volumes', 'v1'), undefined);

  // Nothing in the database (nor its WAL) is a usable token.
  await a.close();
  await b.close();
  const bytes = Buffer.concat([
    readFileSync(file),
    ...['-wal'].map((s) => {
      try {
        return readFileSync(file + s);
      } catch {
        return Buffer.alloc(0);
      }
    }),
  ]);
  assert.ok(!bytes.includes(Buffer.from(local)), 'local token stored');
  assert.ok(!bytes.includes(Buffer.from(c1.token)), 'remote token stored in clear');
  const raw = new DatabaseSync(file);
  const rows = raw.prepare('SELECT token_hash, remote_token_enc FROM token_mappings').all() as {
    token_hash: string;
    remote_token_enc: string;
  }[];
  raw.close();
  assert.equal(rows.length, 1);
  assert.notEqual(rows[0]!.token_hash, local);
});

test('mappings made from a token are dropped with it, and never outlive the remote token', async () => {
  const d = await openDatabase(join(dir, 'revoke.sqlite'));
  const src = new CountingSource(120_000);
  const t = new TokenMappings({ db: d.db, pepper: randomBytes(32), source: src, metrics: new ProxyMetrics() });
  const local = randomBytes(20).toString('hex');
  const c = await t.forSp({
    localToken: local,
    hash: t.hash(local),
    user: user(3_600_000),
    sp,
    deadline: Date.now() + 5000,
  });
  assert.ok(c.expiresAt <= Date.now() + 120_000, 'remote token expiry bounds the mapping');
  assert.equal(await t.dropForToken(t.hash(local)), 1);
  await t.forSp({ localToken: local, hash: t.hash(local), user: user(3_600_000), sp, deadline: Date.now() + 5000 });
  assert.equal(src.calls, 2, 'after revocation a new exchange is needed');
  assert.equal(await t.sweep(Date.now() + 10 * 3_600_000), 1, 'expired rows are swept');
  await d.close();
});

test("an operator's project mapping picks the remote project of a new exchange; the credential then serves on", async () => {
  const d = await openDatabase(join(dir, 'configured.sqlite'));
  const asked: Array<string | undefined> = [];
  const src = new CountingSource(3_600_000);
  const recording: RemoteTokenSource = {
    obtain: (req) => {
      asked.push(req.remoteProjectId);
      return src.obtain(req);
    },
  };
  const t = new TokenMappings({ db: d.db, pepper: randomBytes(32), source: recording, metrics: new ProxyMetrics() });
  await t.setProjectMapping('p-local', 'sp1', 'p-remote-chosen');
  const local = randomBytes(20).toString('hex');
  const u = user(1_800_000);
  const args = { localToken: local, hash: t.hash(local), user: u, sp, deadline: Date.now() + 5000 };
  const c1 = await t.forSp(args);
  const c2 = await t.forSp(args);
  assert.deepEqual(asked, ['p-remote-chosen'], 'one exchange, for the configured remote project');
  assert.equal(c2.token, c1.token);
  // A token of another local project has no mapping: its exchange names no remote project.
  const other = randomBytes(20).toString('hex');
  await t.forSp({ ...args, localToken: other, hash: t.hash(other), user: { ...u, projectId: 'p-elsewhere' } });
  assert.deepEqual(asked, ['p-remote-chosen', undefined]);
  await d.close();
});
