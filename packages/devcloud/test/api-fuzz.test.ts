/**
 * Bad input against every route devcloud serves, property-based (fast-check): malformed and hostile JSON bodies
 * (deep nesting, huge numbers, invalid UTF-8, truncation, wrong types), path parameters (`..`, `%2f`, invalid
 * percent-encoding, overlong ids) and query strings. OpenStack answers bad input with a 4xx in the service's own
 * error shape, so devcloud must too: never a 5xx, never a stack trace, never a hang. The routes come from the
 * cloud's own router, so a new route is fuzzed without touching this file. Bounded: FUZZ_RUNS cases (default 400)
 * per property and a time limit; each test reports how many cases it ran.
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it, type TestContext } from 'node:test';
import fc from 'fast-check';
import { type Devcloud, startDevcloud } from '../src/devcloud.ts';
import { getToken, projectId } from './helpers.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 400);
const TIME_LIMIT_MS = 60_000;
const REQUEST_TIMEOUT_MS = 15_000;

let dc: Devcloud;
let base: string;
let token: string;
let routes: { method: string; path: string }[];

before(async () => {
  dc = await startDevcloud({ clouds: ['fz'], logLevel: 'silent', cloudsYamlPath: null, transitionMs: 10 });
  const cloud = dc.cloud('fz');
  base = cloud.baseUrl;
  token = await getToken(cloud, 'admin', 'admin');
  routes = routesOf(cloud.app.printRoutes({ commonPrefix: false })).filter(
    (r) => r.path.startsWith('/') && !r.path.startsWith('/_devcloud'),
  );
  // swift's one catch-all route (/object-store/v1/*) prints as a bare `*`: spell out its account, container and
  // object levels
  for (const method of ['GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'COPY']) {
    for (const path of ['/object-store/v1/AUTH_:a', '/object-store/v1/AUTH_:a/:c', '/object-store/v1/AUTH_:a/:c/:o']) {
      routes.push({ method, path });
    }
  }
});
after(() => dc?.stop());

/** Method + path template of every route, read from fastify's route tree (`├── /v2/images (GET, POST)` lines). */
function routesOf(tree: string): { method: string; path: string }[] {
  const out: { method: string; path: string }[] = [];
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^([│ ]*)[├└]── (\S+)(?: \(([^)]*)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    stack[depth] = (depth > 0 ? stack[depth - 1]! : '') + m[2]!;
    for (const method of (m[3] ?? '').split(', ').filter(Boolean)) out.push({ method, path: stack[depth]! });
  }
  return out;
}

/** What OpenStack's services send as an error body, by the service the path belongs to. */
function assertErrorShape(path: string, status: number, type: string, text: string, method: string): void {
  if (method === 'HEAD' || text === '') return;
  const json = type.includes('json') ? (JSON.parse(text) as Record<string, unknown>) : undefined;
  const where = `${method} ${path} → ${status} ${type} ${text.slice(0, 300)}`;
  // keystonemiddleware, in front of every service, answers a missing or bad token in Keystone's shape
  if (path.startsWith('/identity') || (status === 401 && !path.startsWith('/object-store') && json?.error)) {
    const e = json?.error as { code?: unknown; message?: unknown } | undefined;
    assert.ok(e && e.code === status && typeof e.message === 'string', `keystone shape: ${where}`);
  } else if (path.startsWith('/compute') || path.startsWith('/volume')) {
    const values = json ? Object.values(json) : [];
    const e = values[0] as { code?: unknown; message?: unknown } | undefined;
    assert.ok(
      values.length === 1 && e && e.code === status && typeof e.message === 'string',
      `nova/cinder shape: ${where}`,
    );
  } else if (path.startsWith('/network')) {
    const e = json?.NeutronError as { type?: unknown; message?: unknown } | undefined;
    assert.ok(e && typeof e.type === 'string' && typeof e.message === 'string', `neutron shape: ${where}`);
  } else if (path.startsWith('/image')) {
    if (json) assert.ok(typeof json.message === 'string' && String(json.code).startsWith(String(status)), where);
    else assert.match(text, new RegExp(`<h1>${status} `), `glance shape: ${where}`);
  } else if (path.startsWith('/object-store')) {
    assert.match(type, /text\/(html|plain)/, `swift shape: ${where}`);
  }
}

const STACK = /\n\s+at |node:internal|file:\/\/|\/src\/[\w/-]+\.ts|\w+Error: .*\n/;

let requests = 0;
const statuses = new Map<number, number>();

/**
 * One request as sent, byte for byte: node:http keeps `..` and percent-escapes in the path (fetch would
 * normalise them away) and sends invalid UTF-8 as is. A 15 s deadline: no answer in time is a hang.
 */
function send(
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: Buffer | string,
): Promise<{ status: number; type: string; text: string }> {
  const url = new URL(base);
  // node:http frames a DELETE body with neither length nor chunking: say how long it is
  if (body !== undefined) headers = { ...headers, 'content-length': String(Buffer.byteLength(body)) };
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      // a fresh connection each time: a socket the server closed after refusing a request is never reused
      { host: url.hostname, port: url.port, method, path, headers, timeout: REQUEST_TIMEOUT_MS, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            type: String(res.headers['content-type'] ?? ''),
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer in ${REQUEST_TIMEOUT_MS} ms (a hang)`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Send one request; assert what any client of OpenStack may rely on for bad input. */
async function probe(method: string, path: string, body?: Buffer | string, contentType?: string, auth = true) {
  requests++;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (auth) headers['x-auth-token'] = token;
  const hasBody = body !== undefined && method !== 'GET' && method !== 'HEAD';
  if (hasBody && contentType) headers['content-type'] = contentType;
  const where = `${method} ${path.slice(0, 200)} ${typeof body === 'string' ? body.slice(0, 200) : ''}`;
  let res: { status: number; type: string; text: string };
  try {
    res = await send(method, path, headers, hasBody ? body : undefined);
  } catch (err) {
    // Node's HTTP parser refuses a request line over 16 KiB (431) and closes at once; the client, still writing,
    // may see only the reset. Anything else (a hang, a reset of a normal request) is a failure.
    const e = err as Error & { code?: string };
    const cut = e.code === 'ECONNRESET' || e.message === 'socket hang up' || e.code?.startsWith('HPE_');
    if (path.length > 16_384 - 512 && cut) {
      statuses.set(431, (statuses.get(431) ?? 0) + 1);
      return 431;
    }
    throw new Error(`${e.message} for a ${path.length}-byte path: ${where}`);
  }
  const { text } = res;
  statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
  assert.ok(res.status < 500, `${res.status} for ${where}: ${text.slice(0, 500)}`);
  assert.doesNotMatch(text, STACK, `a stack trace in the answer to ${where}`);
  assert.ok(!text.includes(token), `the token echoed in the answer to ${where}`);
  // a request line or headers over Node's 16 KiB limit are refused by the HTTP parser before any service sees
  // them (431, as Apache answers 414): the shape is Node's, not the service's
  if (res.status === 431 || res.status === 414) return res.status;
  if (res.status >= 400) assertErrorShape(path, res.status, res.type, text, method);
  return res.status;
}

// ---- generators ---------------------------------------------------------------------------------------------

const segment = fc.oneof(
  fc.constantFrom('..', '.', '%2e%2e', '%2f', 'a%2fb', '%2F..%2F', '%00', '%ff', '%c0%af', '%25', '~', '%20', '-1'),
  fc.constantFrom('00000000-0000-0000-0000-000000000000', 'default', 'admin', 'null', 'undefined', '__proto__'),
  fc.integer({ min: 256, max: 20_000 }).map((n) => 'x'.repeat(n)),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).map(encodeURIComponent),
  fc.stringMatching(/^[A-Za-z0-9._-]{1,40}$/),
);

const queryValue = fc.oneof(
  fc.constantFrom(
    '-1',
    '0',
    'abc',
    '1e400',
    '99999999999999999999999',
    '',
    '%00',
    '%ff',
    'name:sideways',
    'true',
    '[]',
  ),
  fc.string({ maxLength: 30 }).map(encodeURIComponent),
  fc.integer({ min: 1000, max: 10_000 }).map((n) => 'y'.repeat(n)),
);
const queryKey = fc.oneof(
  fc.constantFrom('limit', 'marker', 'sort_key', 'sort_dir', 'sort', 'name', 'status', 'all_tenants', 'page_reverse'),
  fc.constantFrom('fields', 'changes-since', 'format', 'prefix', 'delimiter', 'project_id', 'is_domain', 'enabled'),
  fc.constantFrom('__proto__', 'constructor[prototype][x]', 'a[b][c]', 'id', '%00', '%ff'),
);
const query = fc
  .array(fc.tuple(queryKey, queryValue), { maxLength: 4 })
  .map((kv) => (kv.length ? `?${kv.map(([k, v]) => `${k}=${v}`).join('&')}` : ''));

const deep = fc
  .tuple(fc.integer({ min: 50, max: 100_000 }), fc.constantFrom('[', '{"a":'))
  .map(([n, open]) => `${open.repeat(n)}1${(open === '[' ? ']' : '}').repeat(n)}`);
const hugeNumber = fc.constantFrom(
  '1e999999',
  '-1e400',
  '123456789012345678901234567890123456789',
  '0.' + '1'.repeat(5000),
);

/** A value of the wrong type for whatever field it lands in. */
const wrongType = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 2 ** 53, 1.5, '', 'x', [], {}, [null], { '': '' }),
  fc.jsonValue({ maxDepth: 3 }),
);
/** The envelopes OpenStack request bodies use, with random (often wrong-typed) contents. */
const ENVELOPES = [
  'server',
  'volume',
  'network',
  'subnet',
  'port',
  'router',
  'security_group',
  'security_group_rule',
  'floatingip',
  'auth',
  'project',
  'user',
  'group',
  'role',
  'domain',
  'region',
  'service',
  'endpoint',
  'application_credential',
  'keypair',
  'flavor',
  'snapshot',
  'backup',
  'attachment',
  'os-attach',
  'os-detach',
  'os-extend',
  'reboot',
  'os-start',
  'os-stop',
  'createImage',
  'addSecurityGroup',
  'quota_set',
  'metadata',
  'mapping',
  'identity_provider',
  'service_provider',
  'protocol',
  'volumeAttachment',
  'interfaceAttachment',
  'tags',
  'name',
  'visibility',
];
const envelope = fc
  .oneof(
    fc.tuple(
      fc.constantFrom(...ENVELOPES),
      fc.dictionary(
        fc.constantFrom(
          'name',
          'id',
          'size',
          'flavorRef',
          'imageRef',
          'networks',
          'status',
          'admin_state_up',
          'cidr',
          'ip_version',
          'network_id',
          'password',
          'identity',
          'scope',
          'methods',
          'domain',
          'project_id',
          'description',
          'enabled',
          'metadata',
          'op',
          'path',
          'value',
          'rules',
          'remote_ids',
          'type',
        ),
        wrongType,
        { maxKeys: 5 },
      ),
    ),
    fc.tuple(fc.constantFrom(...ENVELOPES), wrongType),
  )
  .map(([k, v]) => JSON.stringify({ [k]: v }));
const jsonPatch = fc
  .array(
    fc.record(
      {
        op: fc.oneof(fc.constantFrom('add', 'replace', 'remove', 'move', 'test'), wrongType),
        path: fc.oneof(fc.constantFrom('/name', '/', '', '/tags/-', '/~1x', '/visibility', '/locations/0'), wrongType),
        value: wrongType,
      },
      { requiredKeys: [] },
    ),
    { maxLength: 3 },
  )
  .map((a) => JSON.stringify(a));

const invalidUtf8 = fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b) => {
  const prefix = Buffer.from('{"name": "');
  return Buffer.concat([prefix, Buffer.from([0xff, 0xfe, 0xc0, 0xaf]), Buffer.from(b), Buffer.from('"}')]);
});

const body = fc.oneof(
  { weight: 4, arbitrary: envelope },
  { weight: 1, arbitrary: jsonPatch },
  { weight: 1, arbitrary: deep },
  {
    weight: 1,
    arbitrary: hugeNumber.map((n) => `{"server": {"name": "x", "flavorRef": ${n}}, "size": ${n}, "limit": ${n}}`),
  },
  { weight: 1, arbitrary: invalidUtf8 },
  { weight: 1, arbitrary: envelope.map((s) => s.slice(0, Math.max(1, Math.floor(s.length / 2)))) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
);
const contentType = fc.constantFrom(
  'application/json',
  'application/json',
  'application/json',
  'application/openstack-images-v2.1-json-patch',
  'text/plain',
  'application/x-www-form-urlencoded',
);

/** One request on a random route with random parameters, query, body and content type. */
const request = fc.record({
  route: fc.nat(),
  params: fc.array(segment, { minLength: 6, maxLength: 6 }),
  query,
  body: fc.option(body, { nil: undefined }),
  contentType,
  auth: fc.boolean().map((b) => b || Math.random() < 0.9),
});

async function checkAsync<T>(t: TestContext, arb: fc.Arbitrary<T>, predicate: (v: T) => Promise<void>, runs = RUNS) {
  let n = 0;
  try {
    await fc.assert(
      fc.asyncProperty(arb, async (v) => {
        n++;
        await predicate(v);
      }),
      { numRuns: runs, interruptAfterTimeLimit: TIME_LIMIT_MS, markInterruptAsFailure: false },
    );
  } catch (err) {
    // counterexamples hold 20 kB ids: keep the report readable
    const cause = (err as Error).cause as Error | undefined;
    throw new Error(`${String(cause?.message).slice(0, 2000)}\n…\n${String((err as Error).message).slice(0, 2000)}`);
  }
  t.diagnostic(`${n} cases`);
  assert.ok(n >= Math.min(runs, 20), `only ${n} cases ran in ${TIME_LIMIT_MS} ms`);
}

function fill(template: string, params: string[]): string {
  let i = 0;
  // `:id|:sid` is one parameter with two names; `*` is swift's object path
  return template.replace(/:[\w]+(\|:[\w]+)*|\*/g, () => params[i++ % params.length]!);
}

describe('fuzz: bad requests to devcloud get 4xx in the service’s error shape, never 5xx or a stack trace', () => {
  it('the route table was read (every service is fuzzed)', () => {
    for (const prefix of ['/identity', '/compute', '/volume', '/network', '/image', '/object-store']) {
      assert.ok(
        routes.some((r) => r.path.startsWith(prefix)),
        `no ${prefix} routes found`,
      );
    }
  });

  it('random routes with hostile path parameters, queries and bodies', async (t) => {
    await checkAsync(t, request, async (r) => {
      const route = routes[r.route % routes.length]!;
      const path = fill(route.path, r.params) + r.query;
      await probe(route.method, path, r.body, r.body === undefined ? undefined : r.contentType, r.auth);
    });
    t.diagnostic(`${requests} requests so far; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);
  });

  it('a body on every write route: wrong types, deep nesting, huge numbers, invalid UTF-8, truncated JSON', async (t) => {
    const writes = routes.filter((r) => r.method === 'POST' || r.method === 'PUT' || r.method === 'PATCH');
    // real ids of the admin project, so the body, not the missing resource, is what the route has to judge
    const ids = [projectId(dc.cloud('fz'), 'admin'), 'default'];
    await checkAsync(t, fc.tuple(fc.nat(), body, contentType, fc.constantFrom(...ids)), async ([i, b, type, id]) => {
      const route = writes[i % writes.length]!;
      await probe(route.method, fill(route.path, [id]), b, type);
    });
    t.diagnostic(`${writes.length} write routes; ${requests} requests in all`);
  });
});

describe('what the fuzzer found, pinned', () => {
  it('a query parameter given twice is read as Keystone reads it (the first value), not a 500', async () => {
    assert.equal(await probe('GET', '/identity/v3/domains?enabled=-1&enabled=-1'), 200);
    assert.equal(await probe('GET', '/identity/v3/projects?name=a&name=b'), 200);
  });

  it('JSON nested 50 000 levels deep is a 400 in the service’s shape, whatever the content type', async () => {
    const deepBody = `${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}`;
    const quota = `/compute/v2.1/os-quota-sets/${projectId(dc.cloud('fz'), 'admin')}`;
    assert.equal(await probe('PUT', quota, deepBody, 'application/json'), 400);
    assert.equal(
      await probe('POST', '/image/v2/images', deepBody, 'application/openstack-images-v2.1-json-patch'),
      400,
    );
    assert.equal(
      await probe('POST', '/network/v2.0/networks', `${'['.repeat(5000)}${']'.repeat(5000)}`, 'application/json'),
      400,
    );
  });

  it('a path whose escapes are not UTF-8 is the service’s 404, not fastify’s own error body', async () => {
    for (const path of [
      '/image/v2/images/%c0%af',
      '/compute/v2.1/servers/%ff',
      '/network/v2.0/ports/%c0%af',
      '/identity/v3/users/%ff',
    ]) {
      assert.equal(await probe('GET', path), 404, path);
    }
  });
});
