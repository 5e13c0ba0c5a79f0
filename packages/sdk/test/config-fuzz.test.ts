/**
 * Bad clouds.yaml / secure.yaml, property-based (fast-check): duplicate keys, alias bombs, deep nesting, wrong
 * types, huge files and random text. Every case ends in a loaded config or CONFIG_INVALID naming the file (and the
 * cloud and key where there is one), never another error, within a bounded time and memory. Each test reports how
 * many cases it ran (a `# ... cases` diagnostic line). Counts and time are bounded: FUZZ_RUNS (default 100 per
 * property) and a time limit per property.
 */
import assert from 'node:assert/strict';
import { after, describe, it, type TestContext } from 'node:test';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { loadCloudsConfig } from '../src/config/index.ts';
import { isOcxError, type OcxError } from '../src/errors/index.ts';
import { ConfigSandbox } from './config-helpers.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 100);
const TIME_LIMIT_MS = 20_000;
const sandbox = new ConfigSandbox();
after(() => sandbox.cleanup());

const GOOD_AUTH = { auth_url: 'https://k.example/v3', username: 'u', password: 'p', project_name: 'x' };
const name = fc.stringMatching(/^[a-z][a-z0-9_-]{0,11}$/);

/** Load `clouds` (and `secure`) from the sandbox and resolve every cloud; returns the error, if any. */
function load(clouds: string, secure?: string): { err: OcxError | undefined; file: string; secureFile: string } {
  const file = sandbox.write('cwd/clouds.yaml', clouds);
  const secureFile = sandbox.write('cwd/secure.yaml', secure ?? '');
  try {
    const cfg = loadCloudsConfig(sandbox.opts());
    for (const n of cfg.cloudNames()) cfg.getCloud(n);
    return { err: undefined, file, secureFile };
  } catch (err) {
    assert.ok(
      isOcxError(err, 'CONFIG_INVALID'),
      `expected CONFIG_INVALID, got ${(err as Error)?.stack ?? String(err)}`,
    );
    return { err: err as OcxError, file, secureFile };
  }
}

/** Run a property with bounded count and time; report how many cases ran. */
function check<T>(t: TestContext, arb: fc.Arbitrary<T>, predicate: (v: T) => void, runs = RUNS): void {
  let n = 0;
  fc.assert(
    fc.property(arb, (v) => {
      n++;
      predicate(v);
    }),
    { numRuns: runs, interruptAfterTimeLimit: TIME_LIMIT_MS, markInterruptAsFailure: false },
  );
  t.diagnostic(`${n} cases`);
  assert.ok(n >= Math.min(runs, 10), `only ${n} cases ran in ${TIME_LIMIT_MS} ms`);
}

/** Block-style YAML for nested mappings of scalars, with the entry at `dupPath` written twice. */
function emit(obj: Record<string, unknown>, dupPath: string[], indent = ''): string {
  let out = '';
  const [head, ...rest] = dupPath;
  for (const [k, v] of Object.entries(obj)) {
    const key = JSON.stringify(k);
    const line = (value: unknown) =>
      value !== null && typeof value === 'object'
        ? `${indent}${key}:\n${emit(value as Record<string, unknown>, k === head ? rest : [], `${indent}  `)}`
        : `${indent}${key}: ${JSON.stringify(value)}\n`;
    out += line(v);
    if (k === head && rest.length === 0) out += line(v);
  }
  return out;
}

describe('fuzz: bad clouds.yaml and secure.yaml → CONFIG_INVALID naming file, cloud and key', () => {
  it('a key written twice anywhere is refused, naming the cloud and the key', (t) => {
    const cloud = fc.record({
      auth: fc.record({ auth_url: fc.constant(GOOD_AUTH.auth_url), username: name, password: name }),
      region_name: name,
      interface: fc.constantFrom('public', 'internal'),
    });
    const world = fc
      .uniqueArray(name, { minLength: 1, maxLength: 4 })
      .chain((names) =>
        fc.tuple(
          fc.constant(names),
          fc.array(cloud, { minLength: names.length, maxLength: names.length }),
          fc.nat(names.length - 1),
          fc.constantFrom<string[]>([], ['auth'], ['auth', 'username'], ['auth', 'password'], ['region_name']),
          fc.boolean(),
        ),
      );
    check(t, world, ([names, clouds, pick, within, inSecure]) => {
      const tree = { clouds: Object.fromEntries(names.map((n, i) => [n, clouds[i]])) };
      const dup = ['clouds', names[pick]!, ...within];
      const bad = emit(tree, dup);
      const r = inSecure ? load(emit(tree, []), bad) : load(bad);
      assert.ok(r.err, `a duplicate key was accepted:\n${bad}`);
      const file = inSecure ? r.secureFile : r.file;
      assert.equal(r.err.file, file);
      assert.ok(r.err.message.startsWith(file), r.err.message);
      assert.equal(r.err.cloud, names[pick]);
      assert.match(r.err.message, new RegExp(`cloud '${names[pick]}'`));
      assert.equal(r.err.key, within.length ? within.join('.') : undefined);
      assert.match(r.err.message, /the key appears twice/);
    });
  });

  it('alias bombs (billion laughs) are refused within a bounded time and memory', (t) => {
    let worst = 0;
    let refused = 0;
    const bomb = fc.record({ width: fc.integer({ min: 2, max: 12 }), depth: fc.integer({ min: 3, max: 12 }) });
    check(
      t,
      bomb,
      ({ width, depth }) => {
        const lines = [`l0: &l0 [${Array(width).fill('"lol"').join(', ')}]`];
        for (let i = 1; i < depth; i++)
          lines.push(
            `l${i}: &l${i} [${Array(width)
              .fill(`*l${i - 1}`)
              .join(', ')}]`,
          );
        lines.push(`clouds:\n  c:\n    auth: {auth_url: 'https://k.example/v3', username: u, password: p}`);
        lines.push(`    extra: *l${depth - 1}`);
        const heap = process.memoryUsage().heapUsed;
        const t0 = performance.now();
        const r = load(lines.join('\n'));
        const ms = performance.now() - t0;
        worst = Math.max(worst, ms);
        // a small one expands to a few hundred strings and may load; a large one must be refused
        if (width ** depth > 10_000) assert.ok(r.err, `a bomb of ${width}^${depth} strings was accepted`);
        if (r.err) {
          refused++;
          assert.equal(r.err.file, r.file);
          assert.match(r.err.message, /more than 100 alias expansions/);
        }
        assert.ok(ms < 5_000, `took ${ms} ms`);
        assert.ok(process.memoryUsage().heapUsed - heap < 200 * 1024 * 1024, 'heap grew by more than 200 MiB');
      },
      Math.min(RUNS, 50),
    );
    t.diagnostic(`${refused} bombs refused, slowest answer in ${worst.toFixed(0)} ms`);
  });

  it('nesting deeper than 64 levels is refused (flow style up to 50 000 levels, block style up to 1 500), shallower is not', (t) => {
    let worst = 0;
    // block style indents each level once more, so its text grows with the square of the depth: 1 500 levels are
    // already over 1 MiB
    const deep = fc.oneof(
      fc.record({ levels: fc.integer({ min: 1, max: 50_000 }), flow: fc.constant(true) }),
      fc.record({ levels: fc.integer({ min: 1, max: 1_500 }), flow: fc.constant(false) }),
      fc.record({ levels: fc.integer({ min: 1, max: 62 }), flow: fc.boolean() }),
    );
    check(
      t,
      deep,
      ({ levels, flow }) => {
        let value: string;
        if (flow) value = `${'{k: '.repeat(levels)}1${'}'.repeat(levels)}`;
        else value = `\n${Array.from({ length: levels }, (_, i) => `${' '.repeat(6 + i)}k:`).join('\n')} 1`;
        const text = `clouds:\n  c:\n    auth: {auth_url: 'https://k.example/v3', username: u, password: p}\n    extra: ${value}\n`;
        const t0 = performance.now();
        const r = load(text);
        const ms = performance.now() - t0;
        worst = Math.max(worst, ms);
        assert.ok(ms < 10_000, `${levels} levels took ${ms} ms`);
        // clouds → c → extra → levels of k: the depth of the innermost mapping is levels + 2
        if (levels + 2 > 64) {
          assert.ok(r.err, `${levels} levels were accepted`);
          assert.equal(r.err.file, r.file);
          assert.match(
            r.err.message,
            /nested (more than 64 levels deep|too deeply)|not valid YAML|a config file may have/,
          );
        } else {
          assert.equal(r.err, undefined, r.err?.message);
        }
      },
      Math.min(RUNS, 40),
    );
    t.diagnostic(`slowest deep file answered in ${worst.toFixed(0)} ms`);
  });

  it('a list or a mapping where a setting wants a scalar is refused, naming the cloud and the key', (t) => {
    const keys = [
      'auth.auth_url',
      'auth.username',
      'auth.password',
      'auth.project_name',
      'auth.user_domain_name',
      'auth.token',
      'auth.application_credential_secret',
      'interface',
      'api_timeout',
      'compute_endpoint_override',
      'region_name',
      'identity_api_version',
      'verify',
      'cacert',
      'auth_type',
      'compute_api_version',
      'image_interface',
    ];
    const wrong = fc.oneof(
      fc.array(fc.oneof(fc.integer(), name), { minLength: 1, maxLength: 3 }),
      fc.dictionary(name, fc.oneof(fc.integer(), name), { minKeys: 1, maxKeys: 3 }),
    );
    check(t, fc.tuple(name, fc.constantFrom(...keys), wrong, fc.boolean()), ([cloudName, key, value, inSecure]) => {
      // openstacksdk takes a list of region names for region_name: only a list with a non-string is wrong there
      fc.pre(!(key === 'region_name' && Array.isArray(value) && value.every((v) => typeof v === 'string')));
      const cloud: Record<string, unknown> = { auth: { ...GOOD_AUTH } };
      const [a, b] = key.split('.');
      const target = (inSecure ? { auth: {} } : cloud) as Record<string, Record<string, unknown>>;
      if (b) target[a!]![b] = value;
      else (target as Record<string, unknown>)[a!] = value;
      const clouds = stringify({ clouds: { [cloudName]: cloud } });
      const secure = inSecure ? stringify({ clouds: { [cloudName]: target } }) : undefined;
      const r = load(clouds, secure);
      assert.ok(r.err, `${key}: ${JSON.stringify(value)} was accepted`);
      assert.equal(r.err.cloud, cloudName);
      assert.equal(r.err.key, key);
      assert.match(r.err.message, new RegExp(`cloud '${cloudName}': key '${key.replace('.', '\\.')}'`));
      assert.equal(r.err.file, inSecure ? r.secureFile : r.file);
    });
  });

  it('random text and random YAML values load or give CONFIG_INVALID, nothing else', (t) => {
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 400 }),
      fc.jsonValue({ maxDepth: 5 }).map((v) => stringify({ clouds: v })),
      fc
        .dictionary(name, fc.jsonValue({ maxDepth: 4 }), { maxKeys: 4 })
        .map((c) => stringify({ clouds: { a: { auth: GOOD_AUTH, ...c } } })),
      fc
        .array(
          fc.constantFrom(
            'clouds:',
            '  a:',
            '    auth:',
            '&x',
            '*x',
            '<<: *x',
            '- ',
            '{',
            '}',
            '[',
            ']',
            ': ',
            '!!binary',
            '"',
            "'",
            '\t',
            '\n',
            '---',
            '...',
            '%YAML 1.1',
          ),
        )
        .map((parts) => parts.join(' ')),
    );
    check(t, text, (s) => {
      const r = load(s);
      if (r.err) assert.ok(r.err.message.startsWith(r.file), r.err.message);
    });
  });

  it('a file over 1 MiB is refused without being parsed; a large valid one loads quickly', (t) => {
    const many = Object.fromEntries(
      Array.from({ length: 3000 }, (_, i) => [`cloud-${i}`, { auth: { ...GOOD_AUTH }, region_name: 'RegionOne' }]),
    );
    const ok = stringify({ clouds: many });
    assert.ok(ok.length < 1024 * 1024 && ok.length > 300_000, `fixture is ${ok.length} bytes`);
    let t0 = performance.now();
    const good = load(ok);
    assert.equal(good.err, undefined);
    const okMs = performance.now() - t0;
    const huge = `clouds:\n${'  #'.padEnd(1023, 'x')}\n`.repeat(1100);
    t0 = performance.now();
    const bad = load(huge);
    const badMs = performance.now() - t0;
    assert.ok(bad.err);
    assert.equal(bad.err.file, bad.file);
    assert.match(bad.err.message, /more than the 1048576 a config file may have/);
    assert.ok(badMs < 1_000, `refusing took ${badMs} ms`);
    t.diagnostic(
      `2 cases: ${ok.length} bytes / 3000 clouds loaded in ${okMs.toFixed(0)} ms; ${huge.length} bytes refused in ${badMs.toFixed(1)} ms`,
    );
  });
});
