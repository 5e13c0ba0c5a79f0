/**
 * Secrets across the four surfaces (issue 16): one run on devcloud (idp, sp1, sp2 with K2K) of the CLI (child
 * processes), the SDK (in process), the federation proxy and the gRPC gateway (child processes), every one with the
 * SDK's trace log on (OCX_LOG_LEVEL=trace) and the proxy at debug. Every secret the run made or used — each token
 * devcloud issued (users', service accounts', K2K remote tokens, tokens from an application credential), the
 * application credential's secret, a wrong secret given to it, and the passwords of clouds.yaml — is searched for in
 * every log line (proxy, gateway, CLI, SDK), every CLI stdout and stderr, every proxy answer, every gRPC error and
 * per-cloud failure message, and every SDK error message and its JSON: 0 hits.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConnectError, createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { type Devcloud, startDevcloud } from '@ocx/devcloud';
import { registerProxyRegion } from '@ocx/proxy';
import { createLogger, createSession, loadCloudsConfig } from '@ocx/sdk';
import { AuthService } from '@ocx/sdk/gen/ocx/auth/v1/auth_service_pb';
import { CloudService } from '@ocx/sdk/gen/ocx/cloud/v1/cloud_service_pb';
import { parse, stringify } from 'yaml';
import { spawnOcx } from './minicloud.ts';

const CLI = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const PROXY = fileURLToPath(new URL('../../proxy/src/main.ts', import.meta.url));

let dir: string;
let dc: Devcloud;
let cloudsYaml: string;
const children: ChildProcess[] = [];
/** Every secret of the run. */
const secrets = new Set<string>();
/** The tokens devcloud issued (a subset of `secrets`). */
const issued = new Set<string>();
let federated = 0;
/** Where secrets must not be: name → texts (log lines, outputs, bodies, messages). */
const haystacks: Record<string, string[]> = {};
const put = (where: string, ...texts: string[]) => {
  haystacks[where] ??= [];
  haystacks[where]!.push(...texts);
};

function headersText(h: Headers): string {
  const o: Record<string, string> = {};
  h.forEach((v, k) => {
    o[k] = v;
  });
  return JSON.stringify(o);
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** A long-running child (proxy, gateway): every stdout and stderr line goes to `where`; resolves on `ready`. */
function daemon(where: string, args: string[], ready: RegExp): Promise<RegExpExecArray> {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, OCX_LOG_LEVEL: 'trace', OS_CLIENT_CONFIG_FILE: cloudsYaml },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let seen = '';
    for (const stream of [child.stdout!, child.stderr!]) {
      let partial = '';
      stream.on('data', (c: Buffer) => {
        const parts = (partial + c.toString()).split('\n');
        partial = parts.pop() ?? '';
        put(where, ...parts);
        seen += c.toString();
        const m = ready.exec(seen);
        if (m) resolve(m);
      });
    }
    child.once('exit', (code) => reject(new Error(`${where} exited (${code}): ${seen.slice(-2000)}`)));
  });
}

let proxyUrl: string;
let grpcUrl: string;
let ac: { id: string; secret: string };
const WRONG_SECRET = `wrong-${Math.random().toString(36).slice(2)}-secret`;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ocx-secrets-'));
  cloudsYaml = join(dir, 'clouds.yaml');
  dc = await startDevcloud({
    clouds: ['idp', 'sp1', 'sp2'],
    cloudsYamlPath: cloudsYaml,
    transitionMs: 50,
    logLevel: 'silent',
  });
  for (const c of dc.clouds) {
    const ks = c.cloud.keystone as unknown as Record<string, (...a: unknown[]) => { token: string }>;
    for (const m of ['authenticate', 'issueFederated']) {
      const orig = ks[m]!.bind(ks);
      ks[m] = (...a: unknown[]) => {
        const r = orig(...a);
        secrets.add(r.token);
        issued.add(r.token);
        if (m === 'issueFederated') federated++;
        return r;
      };
    }
  }
  const doc = parse(readFileSync(cloudsYaml, 'utf8')) as { clouds: Record<string, Record<string, unknown>> };
  for (const c of Object.values(doc.clouds)) {
    const pw = (c.auth as { password?: string } | undefined)?.password;
    if (pw) secrets.add(pw);
  }
  // The demo user's application credential (Keystone shows its secret once, at creation).
  const session = createSession(
    loadCloudsConfig({ files: { clouds: [cloudsYaml], secure: [], publicClouds: [] }, loadEnv: false }).getCloud('idp'),
  );
  const access = await session.getAccess();
  const res = await session.client('identity').post(`/users/${access.user.id}/application_credentials`, {
    json: { application_credential: { name: 'secrets-test' } },
  });
  ac = (await res.json<{ application_credential: { id: string; secret: string } }>()).application_credential;
  await session.close();
  secrets.add(ac.secret);
  secrets.add(WRONG_SECRET);
  const idp = doc.clouds.idp!;
  const withAc = (secret: string, region?: string) => ({
    ...structuredClone(idp),
    ...(region ? { region_name: region } : {}),
    auth_type: 'v3applicationcredential',
    auth: {
      auth_url: (idp.auth as { auth_url: string }).auth_url,
      application_credential_id: ac.id,
      application_credential_secret: secret,
    },
  });
  doc.clouds['idp-ac'] = withAc(ac.secret);
  doc.clouds['idp-ac-wrong'] = withAc(WRONG_SECRET);
  doc.clouds['idp-proxy'] = { ...structuredClone(idp), region_name: 'ocx-proxy' };
  doc.clouds['idp-ac-proxy'] = withAc(ac.secret, 'ocx-proxy');
  writeFileSync(cloudsYaml, stringify(doc));

  const pm = await daemon(
    'proxy log',
    [
      PROXY,
      '--home-cloud',
      'idp-admin',
      '--clouds-file',
      cloudsYaml,
      '--listen',
      '127.0.0.1:0',
      '--db',
      join(dir, 'p.sqlite'),
      '--log-level',
      'debug',
      '--data-plane',
      'node',
    ],
    /listening (\S+)/,
  );
  proxyUrl = pm[1]!;
  const config = loadCloudsConfig({ files: { clouds: [cloudsYaml], secure: [], publicClouds: [] }, loadEnv: false });
  await registerProxyRegion(config.getCloud('idp-admin'), proxyUrl);
  const port = await freePort();
  const httpPort = await freePort();
  const gm = await daemon(
    'gateway log',
    [
      CLI,
      'gateway',
      '--home-cloud',
      'idp-admin',
      '--clouds-file',
      cloudsYaml,
      '--listen',
      `127.0.0.1:${port}`,
      '--http-port',
      String(httpPort),
    ],
    /gRPC (http:\/\/\S+?);?\s/,
  );
  grpcUrl = gm[1]!.replace(/;$/, '');
});

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await dc?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('no secret of the run in any log line, CLI output, proxy answer, gRPC error or SDK error', {
  timeout: 240_000,
}, async () => {
  // --- CLI (child processes, SDK trace log on stderr)
  const env = { OS_CLIENT_CONFIG_FILE: cloudsYaml, HOME: dir, OCX_LOG_LEVEL: 'trace' };
  const k2k = ['--os-remote-project-name', 'demo', '--os-remote-project-domain-name', 'Default'];
  const runs: [string[], boolean][] = [
    [['server', 'list', '--os-cloud', 'idp'], true],
    [['flavor', 'list', '--os-cloud', 'idp-ac'], true],
    [
      ['image', 'list', '--os-cloud', 'idp', '--os-service-provider', 'sp1', '--os-service-provider', 'sp2', ...k2k],
      true,
    ],
    [['network', 'list', '--os-cloud', 'idp-proxy'], true],
    [['server', 'list', '--os-cloud', 'idp-ac-proxy'], true],
    [['server', 'show', 'no-such-server', '--os-cloud', 'idp-ac'], false],
    [['flavor', 'list', '--os-cloud', 'idp-ac-wrong'], false],
    [['network', 'show', 'no-such-network', '--os-cloud', 'idp-proxy'], false],
  ];
  let cliLines = 0;
  for (const [args, ok] of runs) {
    const r = await spawnOcx(args, env, CLI);
    assert.equal(r.code === 0, ok, `ocx ${args.join(' ')}: ${r.code} ${r.stderr.slice(-500)}`);
    put('CLI stdout', ...r.stdout.split('\n'));
    put('CLI stderr', ...r.stderr.split('\n'));
    cliLines += r.stdout.split('\n').length + r.stderr.split('\n').length;
  }

  // --- SDK in process, its trace log captured
  const sdkLines: string[] = [];
  const sink = new Writable({
    write(chunk, _e, cb) {
      sdkLines.push(...String(chunk).split('\n').filter(Boolean));
      cb();
    },
  });
  const logger = createLogger({ level: 'trace', destination: sink });
  const config = loadCloudsConfig({ files: { clouds: [cloudsYaml], secure: [], publicClouds: [] }, loadEnv: false });
  const sdkErrors: string[] = [];
  const sdkCatch = async (what: () => Promise<unknown>) => {
    try {
      await what();
      return undefined;
    } catch (err) {
      const e = err as Error & { toJSON?: () => unknown };
      sdkErrors.push(e.message, JSON.stringify(e.toJSON?.() ?? e), String(e.stack));
      return e;
    }
  };
  const good = createSession(config.getCloud('idp-ac'), { transportOptions: { logger } });
  const userToken = await good.getToken();
  assert.ok((await good.client('compute').get('/flavors')).status === 200);
  await sdkCatch(async () => {
    const r = await good.client('compute').get('/servers/no-such-server');
    if (r.status >= 400) await r.json();
  });
  await good.close();
  const wrong = createSession(config.getCloud('idp-ac-wrong'), { transportOptions: { logger } });
  const refused = await sdkCatch(() => wrong.getToken());
  assert.ok(refused, 'a wrong application-credential secret is refused');
  await wrong.close();
  const viaProxy = createSession(config.getCloud('idp-ac-proxy'), { transportOptions: { logger } });
  await sdkCatch(() => viaProxy.client('network').get('/v2.0/networks/no-such-network'));
  await viaProxy.close();
  put('SDK log', ...sdkLines);
  put('SDK errors', ...sdkErrors);

  // --- the proxy over HTTP: K2K fan-out, one SP, the app-credential token, errors
  const bodies: string[] = [];
  let errorBodies = 0;
  for (const [path, init] of [
    ['/compute/v2.1/servers', {}],
    ['/network/v2.0/networks', { 'mm-service-provider': 'sp2' }],
    ['/compute/v2.1/servers/no-such-server', {}],
    ['/image/v2/images/no-such-image', { 'mm-service-provider': 'sp1' }],
    ['/compute/v2.1/flavors', { 'x-auth-token': 'not-a-token' }],
    ['/compute/v2.1/flavors', { 'x-auth-token': ac.secret }],
  ] as const) {
    const r = await fetch(`${proxyUrl}${path}`, { headers: { 'x-auth-token': userToken, ...init } });
    const text = await r.text();
    bodies.push(text, headersText(r.headers));
    if (r.status >= 400) errorBodies++;
  }
  assert.ok(errorBodies >= 4, `error answers from the proxy (${errorBodies})`);
  put('proxy answers', ...bodies);

  // --- the gateway: the application credential exchanged, calls over every cloud (K2K inside), errors
  const grpc = createGrpcTransport({ baseUrl: grpcUrl });
  const auth = createClient(AuthService, grpc);
  const cloud = createClient(CloudService, grpc);
  const got = await auth.exchangeApplicationCredential({ id: ac.id, secret: ac.secret });
  assert.ok(got.token && secrets.has(got.token), 'the exchanged token is one devcloud issued (searched for too)');
  const bearer = { headers: { authorization: `Bearer ${got.token}` } };
  const gwErrors: string[] = [];
  const gwCatch = async (what: () => Promise<unknown>) => {
    try {
      const r = (await what()) as { failures?: unknown[] };
      for (const f of r.failures ?? []) gwErrors.push(JSON.stringify(f));
    } catch (err) {
      const e = ConnectError.from(err);
      gwErrors.push(e.message, e.rawMessage, headersText(e.metadata), JSON.stringify(e.details));
    }
  };
  await gwCatch(() => cloud.listServers({}, bearer));
  await gwCatch(() => cloud.listFlavors({}, bearer));
  await gwCatch(() => cloud.getServer({ filter: { nameOrId: 'no-such-server' } }, bearer));
  await gwCatch(() => auth.exchangeApplicationCredential({ id: ac.id, secret: WRONG_SECRET }));
  await gwCatch(() => cloud.listFlavors({}, { headers: { authorization: `Bearer ${ac.secret}` } }));
  assert.ok(gwErrors.length >= 3, `gateway errors (${gwErrors.length})`);
  put('gateway errors', ...gwErrors);

  // --- the search
  await new Promise((r) => setTimeout(r, 300)); // the children's last log lines
  assert.ok(federated >= 2, `K2K remote tokens were issued and captured (${federated})`);
  const tokens = [...secrets].filter((s) => s.length >= 8);
  const hits: string[] = [];
  let scanned = 0;
  for (const [where, texts] of Object.entries(haystacks)) {
    for (const t of texts) {
      scanned++;
      for (const s of tokens)
        if (t.includes(s)) hits.push(`${where}: …${t.slice(Math.max(0, t.indexOf(s) - 80), t.indexOf(s))}<secret>`);
    }
  }
  const counts = Object.entries(haystacks)
    .map(([k, v]) => `${k} ${v.length}`)
    .join(', ');
  console.log(
    `# ${tokens.length} secrets (${issued.size} tokens issued, ${federated} of them K2K remote; the application-credential secret, a wrong one, ${tokens.length - issued.size - 2} passwords) searched in ${scanned} texts (${counts}; ${cliLines} CLI lines from ${runs.length} runs): ${hits.length} hits`,
  );
  assert.ok((haystacks['proxy log']?.length ?? 0) > 20, 'the proxy logged');
  assert.ok((haystacks['gateway log']?.length ?? 0) > 5, 'the gateway (its SDK sessions) logged');
  assert.ok(sdkLines.length > 10, 'the SDK logged at trace');
  const logged = (where: string) => (haystacks[where] ?? []).filter((l) => l.startsWith('{"level":')).length;
  assert.ok(logged('CLI stderr') > 10, `the CLI's SDK logged at trace (${logged('CLI stderr')} lines)`);
  assert.ok(logged('gateway log') > 10, `the gateway's SDK sessions logged (${logged('gateway log')} lines)`);
  assert.deepEqual(hits, []);
});
