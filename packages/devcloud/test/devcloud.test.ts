import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import YAML from 'yaml';
import { parseDevcloudArgs, runDevcloudCommand } from '../src/cli.ts';
import { startDevcloud } from '../src/devcloud.ts';
import { MemoryStore, SqliteDatabase } from '../src/store.ts';
import { k2kToken } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'ocx-devcloud-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function login(authUrl: string, user: string, project: string): Promise<Response> {
  return fetch(`${authUrl}/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: user, domain: { name: 'Default' }, password: `${user}-secret` } },
        },
        scope: { project: { name: project, domain: { name: 'Default' } } },
      },
    }),
    signal: AbortSignal.timeout(5000),
  });
}

describe('startDevcloud', () => {
  test('writes clouds.yaml with demo and admin clouds per cloud, and every cloud answers', async () => {
    const path = join(dir, 'a', 'clouds.yaml');
    const dc = await startDevcloud({ cloudsYamlPath: path, services: [], logLevel: 'silent' });
    try {
      const doc = YAML.parse(readFileSync(path, 'utf8')) as {
        clouds: Record<string, { auth: Record<string, string>; region_name: string }>;
      };
      assert.deepEqual(Object.keys(doc.clouds).sort(), ['idp', 'idp-admin', 'sp1', 'sp1-admin', 'sp2', 'sp2-admin']);
      assert.equal(doc.clouds.sp1?.auth.username, 'demo');
      assert.equal(doc.clouds.sp1?.auth.project_name, 'demo');
      assert.equal(doc.clouds['sp2-admin']?.auth.username, 'admin');
      assert.equal(doc.clouds.idp?.auth.auth_url, `${dc.cloud('idp').baseUrl}/identity`);
      for (const c of dc.clouds) {
        const res = await login(c.authUrl, 'admin', 'admin');
        assert.equal(res.status, 201, `${c.name} admin login`);
      }
      assert.equal(new Set(dc.clouds.map((c) => c.port)).size, 3);
    } finally {
      await dc.stop();
    }
  });

  test('--state keeps identity data and tokens across a restart', async () => {
    const statePath = join(dir, 'state.db');
    const dc1 = await startDevcloud({ clouds: ['idp', 'sp1'], statePath, services: [], logLevel: 'silent' });
    const adminRes = await login(dc1.cloud('sp1').authUrl, 'admin', 'admin');
    const admin = adminRes.headers.get('x-subject-token') as string;
    const created = await fetch(`${dc1.cloud('sp1').authUrl}/projects`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-auth-token': admin },
      body: JSON.stringify({ project: { name: 'kept', domain_id: 'default' } }),
      signal: AbortSignal.timeout(5000),
    });
    assert.equal(created.status, 201);
    const idpSpCount = dc1.cloud('idp').federation.serviceProviders.all().length;
    await dc1.stop();

    const dc2 = await startDevcloud({ clouds: ['idp', 'sp1'], statePath, services: [], logLevel: 'silent' });
    try {
      const projects = await fetch(`${dc2.cloud('sp1').authUrl}/projects?name=kept`, {
        headers: { 'x-auth-token': admin },
        signal: AbortSignal.timeout(5000),
      });
      assert.equal(projects.status, 200, 'the old admin token is still valid');
      const list = (await projects.json()) as { projects: { name: string }[] };
      assert.deepEqual(
        list.projects.map((p) => p.name),
        ['kept'],
      );
      assert.equal(dc2.cloud('idp').federation.serviceProviders.all().length, idpSpCount, 'no duplicate K2K wiring');
      assert.equal(
        dc2.cloud('sp1').keystone.users.filter((u) => u.name === 'demo').length,
        1,
        'bootstrap is idempotent',
      );
    } finally {
      await dc2.stop();
    }
  });

  test('--state: K2K keeps working after a restart on new ports (same IdP key, SP re-pointed)', async () => {
    const statePath = join(dir, 'k2k.db');
    const dc1 = await startDevcloud({ clouds: ['idp', 'sp1'], statePath, services: [], logLevel: 'silent' });
    const before = await k2kToken(dc1.cloud('idp').authUrl, 'sp1');
    assert.equal(dc1.cloud('sp1').ctx.validateToken(before)?.federated?.identityProvider, 'idp');
    const cert1 = (await dc1.cloud('idp').federation.signingIdentity()).certB64;
    await dc1.stop();
    const dc2 = await startDevcloud({ clouds: ['idp', 'sp1'], statePath, services: [], logLevel: 'silent' });
    try {
      assert.equal((await dc2.cloud('idp').federation.signingIdentity()).certB64, cert1, 'the IdP key survived');
      const after = await k2kToken(dc2.cloud('idp').authUrl, 'sp1');
      assert.equal(dc2.cloud('sp1').ctx.validateToken(after)?.projectName, 'demo');
    } finally {
      await dc2.stop();
    }
  });

  test('a port in use is a clear error', async () => {
    const dc = await startDevcloud({ clouds: ['idp'], services: [], logLevel: 'silent' });
    try {
      await assert.rejects(
        startDevcloud({ clouds: ['x'], basePort: dc.cloud('idp').port, services: [], logLevel: 'silent' }),
        /EADDRINUSE/,
      );
    } finally {
      await dc.stop();
    }
  });
});

describe('state stores', () => {
  for (const [name, make] of [
    ['memory', () => ({ store: new MemoryStore(), close: () => {} })],
    [
      'sqlite',
      () => {
        const db = new SqliteDatabase(join(dir, `t-${Date.now()}.db`));
        return { store: db.forCloud('c'), close: () => db.close() };
      },
    ],
  ] as const) {
    test(`${name}: put/get/delete/filter keep insertion order and upsert in place`, () => {
      const { store, close } = make();
      const t = store.table<{ id: string; n: number }>('things');
      t.put({ id: 'a', n: 1 });
      t.put({ id: 'b', n: 2 });
      t.put({ id: 'c', n: 3 });
      t.put({ id: 'a', n: 10 });
      assert.equal(t.get('a')?.n, 10);
      assert.deepEqual(
        t.all().map((r) => r.id),
        ['a', 'b', 'c'],
      );
      assert.equal(t.delete('b'), true);
      assert.equal(t.delete('b'), false);
      assert.deepEqual(
        t.filter((r) => r.n > 5).map((r) => r.id),
        ['a'],
      );
      close();
    });
  }
});

describe('ocx devcloud command', () => {
  test('parses options', () => {
    const o = parseDevcloudArgs(
      ['--clouds', '4', '--clouds-yaml', 'x/c.yaml', '--state', 's.db', '--base-port', '30000'],
      '/tmp/w',
    );
    assert.deepEqual(o.clouds, ['idp', 'sp1', 'sp2', 'sp3']);
    assert.equal(o.cloudsYamlPath, '/tmp/w/x/c.yaml');
    assert.equal(o.statePath, '/tmp/w/s.db');
    assert.equal(o.basePort, 30000);
    assert.deepEqual(parseDevcloudArgs(['--clouds', 'home,away']).clouds, ['home', 'away']);
    assert.throws(() => parseDevcloudArgs(['--base-port', 'x']), /base-port/);
    assert.equal(parseDevcloudArgs([]).cloudsYamlPath, join(process.cwd(), 'clouds.yaml'));
  });

  test('starts, prints what to try, writes clouds.yaml, stops when told', async () => {
    let out = '';
    let stop: () => void = () => {};
    const untilStopped = new Promise<void>((res) => {
      stop = res;
    });
    const path = join(dir, 'cmd', 'clouds.yaml');
    const running = runDevcloudCommand(['--clouds', '2', '--clouds-yaml', path], {
      out: (t) => {
        out += t;
        if (t.includes('Ctrl-C')) stop();
      },
      err: (t) => {
        out += t;
      },
      untilStopped,
    });
    assert.equal(await running, 0);
    assert.match(out, /devcloud is running: 2 cloud\(s\), K2K federation idp -> sp1/);
    assert.match(out, /--os-service-provider sp1 --os-remote-project-name demo/);
    const doc = YAML.parse(readFileSync(path, 'utf8')) as { clouds: Record<string, unknown> };
    assert.deepEqual(Object.keys(doc.clouds).sort(), ['idp', 'idp-admin', 'sp1', 'sp1-admin']);
  });

  test('bad options exit 2 with usage', async () => {
    let err = '';
    const code = await runDevcloudCommand(['--nope'], {
      out: () => {},
      err: (t) => (err += t),
      untilStopped: Promise.resolve(),
    });
    assert.equal(code, 2);
    assert.match(err, /Usage: ocx devcloud/);
  });
});
