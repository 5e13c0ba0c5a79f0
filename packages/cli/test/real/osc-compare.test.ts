/**
 * `ocx X list -f json` (and `show`) returns the same IDs and names as python-openstackclient's `openstack X list` on
 * the same real cloud, for every kind ocx lists: server, image, flavor, network, subnet, router, volume, floating ip,
 * keypair, container, object; directly and through Keystone-to-Keystone. Runs only with OCX_TEST_TARGET=real (real
 * Keystone/Nova/Glance/Neutron/Cinder/Swift from test/real; clouds.yaml from OS_CLIENT_CONFIG_FILE, else
 * /tmp/os-harness/clouds.yaml). A missing `openstack` is a failure there, never a skip (CI sets OCX_REQUIRE_OSC=1
 * and runs this file only with the real target).
 *
 * One resource of each kind is made with `openstack` first (so no comparison can pass on two empty lists: each
 * made id must be in both answers), and deleted afterwards. Other suites may create and delete resources on the
 * same cloud meanwhile, so `openstack` is asked before and after `ocx`: what both `openstack` runs saw must be in
 * ocx's answer, and ocx may show nothing that neither saw. `openstack` runs its commands in batches (its
 * interactive mode reading them from stdin: one Python start and one login per batch), which is what keeps this
 * file to a few `openstack` processes instead of dozens.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type OcxRun, runOcx } from '../minicloud.ts';

const REAL = process.env.OCX_TEST_TARGET === 'real';
const CLOUDS_YAML = process.env.OS_CLIENT_CONFIG_FILE ?? '/tmp/os-harness/clouds.yaml';
const CLOUD = process.env.OCX_REAL_CLOUD ?? 'sp1';
const ADMIN_CLOUD = `${CLOUD}-admin`;
const HOME_CLOUD = process.env.OCX_REAL_HOME_CLOUD ?? 'idp';
const OPENSTACK = process.env.OCX_OPENSTACK_BIN ?? '/usr/bin/openstack';
const PUBLIC_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJ3bHYy0zHJ2Cq6SZn1xTP2fNzM2kBx3Xb9w5cF8e6h ocx@osc-compare';
type Obj = Record<string, unknown>;
/** K2K as openstackclient takes it from the environment (the same as its --os-service-provider ... options). */
const K2K_ENV = {
  OS_CLOUD: HOME_CLOUD,
  OS_SERVICE_PROVIDER: CLOUD,
  OS_REMOTE_PROJECT_NAME: 'demo',
  OS_REMOTE_PROJECT_DOMAIN_NAME: 'Default',
};
const K2K_ARGS = [
  ...['--os-cloud', HOME_CLOUD, '--os-service-provider', CLOUD],
  ...['--os-remote-project-name', 'demo', '--os-remote-project-domain-name', 'Default'],
];

/** Split concatenated JSON documents (`openstack` in batch mode prints one per command). */
function splitJson(text: string): unknown[] {
  const out: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === '[' || ch === '{') {
      if (depth++ === 0) start = i;
    } else if (ch === ']' || ch === '}') {
      if (--depth === 0) out.push(JSON.parse(text.slice(start, i + 1)));
    }
  }
  return out;
}

/**
 * Run `commands` (each an `openstack` command line, `-f json` added; one starting with `!` prints nothing and gets
 * none) in one `openstack` process on the cloud of `env.OS_CLOUD`: one JSON document per command, or the test fails
 * with what `openstack` said. With `json` false (cleanup) nothing is counted and errors are only printed.
 */
function oscBatch(env: Record<string, string>, commands: string[], json = true): Promise<unknown[]> {
  const full: Record<string, string | undefined> = { ...process.env, OS_CLIENT_CONFIG_FILE: CLOUDS_YAML };
  full.PATH = `/usr/bin:${process.env.PATH ?? ''}`; // pyenv's python3 shim lacks the OpenStack libraries
  for (const k of Object.keys(full)) if (k.startsWith('OS_') && k !== 'OS_CLIENT_CONFIG_FILE') delete full[k];
  Object.assign(full, env);
  return new Promise((resolve, reject) => {
    const child = spawn(OPENSTACK, [], { env: full, stdio: ['pipe', 'pipe', 'pipe'], timeout: 300_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      try {
        if (!json && stderr) process.stderr.write(`openstack (cleanup): ${stderr}`);
        const docs = json ? splitJson(stdout) : [];
        const expected = commands.filter((c) => !c.startsWith('!')).length;
        if (json && (docs.length !== expected || /error|failed|not found/i.test(stderr))) {
          throw new Error(`openstack answered ${docs.length} of ${expected} commands (exit ${code}): ${stderr}`);
        }
        resolve(docs);
      } catch (err) {
        reject(err);
      }
    });
    const line = (c: string) => (c.startsWith('!') ? `${c.slice(1)}\n` : json ? `${c} -f json\n` : `${c}\n`);
    child.stdin.end(commands.map(line).join(''));
  });
}

/** A row's identity: ID and Name where the kind has both; the name alone for keypairs, containers, objects. */
const keyOf = (key: string[]) => (r: Obj) => key.map((k) => String(r[k] ?? '')).join(' | ');

interface Kind {
  /** the list command after `openstack`/`ocx` */
  list: string[];
  key: string[];
  /** the key[0] value of the resource this test made (none for flavors: the cloud has them) */
  made?: () => string;
}

describe('ocx against python-openstackclient on real OpenStack', {
  skip: !REAL && 'set OCX_TEST_TARGET=real',
  timeout: 600_000,
}, () => {
  const tag = `ocx-osc-cmp-${process.pid}-${Date.now().toString(36)}`;
  const made: Record<string, string> = {};
  let madeExternal: string | undefined;
  let dir: string;
  const kinds: Kind[] = [
    { list: ['server', 'list'], key: ['ID', 'Name'], made: () => made.server! },
    { list: ['image', 'list'], key: ['ID', 'Name'], made: () => made.image! },
    { list: ['flavor', 'list'], key: ['ID', 'Name'] },
    { list: ['network', 'list'], key: ['ID', 'Name'], made: () => made.network! },
    { list: ['subnet', 'list'], key: ['ID', 'Name'], made: () => made.subnet! },
    { list: ['router', 'list'], key: ['ID', 'Name'], made: () => made.router! },
    { list: ['volume', 'list'], key: ['ID', 'Name'], made: () => made.volume! },
    { list: ['floating', 'ip', 'list'], key: ['ID', 'Floating IP Address'], made: () => made.floating! },
    { list: ['keypair', 'list'], key: ['Name'], made: () => made.keypair! },
    { list: ['container', 'list'], key: ['Name'], made: () => tag },
    { list: ['object', 'list', tag], key: ['Name'], made: () => 'hello.txt' },
    { list: ['object', 'list', tag, '--long'], key: ['Name', 'Bytes', 'Hash'], made: () => 'hello.txt' },
  ];
  const k2kKinds: Kind[] = [
    { list: ['image', 'list'], key: ['ID', 'Name'], made: () => made.image! },
    { list: ['server', 'list'], key: ['ID', 'Name'], made: () => made.server! },
  ];
  /** openstack's answers before and after ocx's, ocx's runs, and openstack's shows (same order as the kinds). */
  const seen = { before: [] as Obj[][], after: [] as Obj[][], ocx: [] as OcxRun[], k2kBefore: [] as Obj[][] };
  const k2k = { after: [] as Obj[][], ocx: [] as OcxRun[] };
  let shows: Obj[] = [];
  const ocx = (args: string[]) =>
    runOcx([...args, '-f', 'json', '--timeout', '120'], { OS_CLIENT_CONFIG_FILE: CLOUDS_YAML, HOME: dir });

  /** Seconds per phase of `before`, printed by the first test (where a slow run spent its time). */
  const phases: Record<string, number> = {};
  let t0 = Date.now();
  const phase = (name: string) => {
    phases[name] = (Date.now() - t0) / 1000;
    t0 = Date.now();
  };

  before(async () => {
    t0 = Date.now();
    assert.ok(existsSync(CLOUDS_YAML), `${CLOUDS_YAML} is missing`);
    assert.ok(existsSync(OPENSTACK), `${OPENSTACK} is missing (apt-get install python3-openstackclient)`);
    dir = mkdtempSync(join(tmpdir(), 'ocx-osc-cmp-'));
    writeFileSync(join(dir, 'image.raw'), Buffer.alloc(1024 * 1024));
    writeFileSync(join(dir, 'id.pub'), `${PUBLIC_KEY}\n`);
    writeFileSync(join(dir, 'hello.txt'), 'hello\n');
    const sp = { OS_CLOUD: CLOUD };
    // An external network (for the floating IP) is an admin's to make; reuse one if the cloud has it.
    const externalNet = async () => {
      const [ext] = (await oscBatch({ OS_CLOUD: ADMIN_CLOUD }, ['network list --external -c ID'])) as Obj[][];
      if (ext?.[0]) return String(ext[0].ID);
      const octet = 100 + Math.floor(Math.random() * 100);
      const [net] = (await oscBatch({ OS_CLOUD: ADMIN_CLOUD }, [
        `network create --external ${tag}-ext -c id`,
        `subnet create --network ${tag}-ext --subnet-range 172.31.${octet}.0/24 --no-dhcp ${tag}-ext -c id`,
      ])) as Obj[];
      madeExternal = String(net?.id);
      return madeExternal;
    };
    const [first, ext] = await Promise.all([
      oscBatch(sp, [
        `image create --disk-format raw --container-format bare --file ${join(dir, 'image.raw')} ${tag} -c id`,
        `network create ${tag} -c id`,
        `subnet create --network ${tag} --subnet-range 10.231.7.0/24 ${tag} -c id`,
        `router create ${tag} -c id`,
        `volume create --size 1 ${tag} -c id`,
        `keypair create --public-key ${join(dir, 'id.pub')} ${tag} -c name`,
        `container create ${tag}`,
        `object create ${tag} ${join(dir, 'hello.txt')} --name hello.txt`,
        'flavor list -c ID -c RAM',
      ]) as Promise<Obj[]>,
      externalNet(),
    ]);
    const [image, network, subnet, router, volume, keypair, , , flavors] = first;
    Object.assign(made, {
      image: String(image?.id),
      network: String(network?.id),
      subnet: String(subnet?.id),
      router: String(router?.id),
      volume: String(volume?.id),
      keypair: String(keypair?.name),
    });
    const flavor = (flavors as unknown as Array<{ ID: string; RAM: number }>).sort((a, b) => a.RAM - b.RAM)[0]!.ID;
    // The floating IP is attached to a port (the router joins its subnet to the external network): other suites'
    // nodepool-style cleanups delete every unattached floating IP of the project.
    const [port, floating, server] = (await oscBatch({ ...sp, OS_COMPUTE_API_VERSION: '2.37' }, [
      `!router set --external-gateway ${ext} ${tag}`,
      `!router add subnet ${tag} ${tag}`,
      `port create --network ${tag} ${tag} -c id`,
      `floating ip create --port ${tag} --description ${tag} ${ext} -c id`,
      `server create --nic none --flavor ${flavor} --image ${made.image} ${tag} -c id`,
    ])) as Obj[];
    Object.assign(made, { port: String(port?.id), server: String(server?.id), floating: String(floating?.id) });
    phase('create (openstack)');

    // The comparison: openstack, then ocx (every kind at once), then openstack again; K2K alongside.
    const lists = (ks: Kind[]) => ks.map((k) => `${k.list.join(' ')}`);
    seen.before = (await oscBatch(sp, lists(kinds))) as Obj[][];
    phase(`openstack: ${kinds.length} lists`);
    // One login first, as a user's earlier command would have done (the token cache on disk), then every list.
    const login = await ocx(['token', 'issue', '--os-cloud', CLOUD]);
    assert.equal(login.code, 0, login.stderr);
    seen.ocx = await Promise.all(kinds.map((k) => ocx([...k.list, '--os-cloud', CLOUD])));
    phase(`ocx: ${kinds.length} lists at once`);
    const shown = ['server', 'image', 'volume'].map((n) => `${n} show ${made[n]}`);
    const a = (await oscBatch(sp, [...lists(kinds), ...shown])) as Obj[][];
    phase(`openstack: ${kinds.length} lists and 3 shows`);
    seen.after = a.slice(0, kinds.length);
    shows = a.slice(kinds.length) as unknown as Obj[];
    // K2K after the rest and one login at a time: test/real's Keystones keep their data in SQLite, and two
    // federated logins at once can meet 'database is locked' (HTTP 500 from the SP).
    seen.k2kBefore = (await oscBatch(K2K_ENV, lists(k2kKinds))) as Obj[][];
    for (const k of k2kKinds) k2k.ocx.push(await ocx([...K2K_ARGS, ...k.list]));
    k2k.after = (await oscBatch(K2K_ENV, lists(k2kKinds))) as Obj[][];
    phase('K2K: openstack, ocx, openstack');
  });

  after(async () => {
    // Whatever was made, by name (a failed create leaves no id), in one batch (deletes print nothing; a failed one
    // is reported on stderr by openstack, and the batch goes on).
    const del = (env: Record<string, string>, cmds: string[]) =>
      oscBatch(env, cmds, false).catch((err: unknown) => {
        process.stderr.write(`cleanup: ${String(err).split('\n')[0]}\n`);
      });
    await del({ OS_CLOUD: CLOUD }, [
      `server delete --wait ${tag}`,
      ...(made.floating ? [`floating ip delete ${made.floating}`] : []),
      `port delete ${tag}`,
      `router remove subnet ${tag} ${tag}`,
      `router delete ${tag}`,
      `volume delete ${tag}`,
      `keypair delete ${tag}`,
      `object delete ${tag} hello.txt`,
      `container delete ${tag}`,
      `network delete ${tag}`,
      `image delete ${tag}`,
    ]);
    if (madeExternal) await del({ OS_CLOUD: ADMIN_CLOUD }, [`network delete ${madeExternal}`]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** What both openstack answers listed must be in ocx's, ocx may list nothing neither did; the made row in both. */
  function compare(kind: Kind, beforeRows: Obj[], ours: OcxRun, afterRows: Obj[]): number {
    const what = kind.list.join(' ');
    assert.equal(ours.code, 0, `ocx ${what} failed: ${ours.stderr}`);
    assert.equal(ours.stderr, '', `ocx ${what} reported failures: ${ours.stderr}`);
    const k = keyOf(kind.key);
    const oursRows = JSON.parse(ours.stdout) as Obj[];
    const oursKeys = new Set(oursRows.map(k));
    const afterKeys = new Set(afterRows.map(k));
    const stable = beforeRows.map(k).filter((x) => afterKeys.has(x));
    const either = new Set([...beforeRows.map(k), ...afterKeys]);
    // Non-empty first: the row made for this test is in both answers, or the comparison proves nothing.
    const mine = kind.made?.();
    if (mine !== undefined) {
      const has = (rows: Obj[]) => rows.some((r) => String(r[kind.key[0]!]) === mine);
      assert.ok(has(beforeRows) && has(afterRows), `openstack ${what} does not list ${mine}, made for this test`);
      assert.ok(has(oursRows), `ocx ${what} does not list ${mine}, made for this test`);
    }
    assert.ok(stable.length > 0, `openstack ${what} listed nothing`);
    for (const x of stable) assert.ok(oursKeys.has(x), `openstack ${what} lists ${x} (twice), ocx does not`);
    for (const x of oursKeys) assert.ok(either.has(x), `ocx lists ${x}, which openstack ${what} never listed`);
    return oursKeys.size;
  }

  kinds.forEach((kind, i) => {
    it(`${kind.list.join(' ')} --os-cloud ${CLOUD}: same ${kind.key.join(', ')}`, (t) => {
      if (i === 0) t.diagnostic(`seconds per phase: ${JSON.stringify(phases)}`);
      const n = compare(kind, seen.before[i]!, seen.ocx[i]!, seen.after[i]!);
      t.diagnostic(`${n} rows compared`);
    });
  });

  it('server, image and volume show -f json: the same id and name as openstack ... show', async () => {
    for (const [i, noun] of (['server', 'image', 'volume'] as const).entries()) {
      const r = await ocx([noun, 'show', tag, '--os-cloud', CLOUD]);
      assert.equal(r.code, 0, r.stderr);
      const ours = JSON.parse(r.stdout) as Obj;
      const theirs = shows[i]!;
      assert.equal(theirs.id, made[noun], `openstack ${noun} show: id`);
      assert.equal(ours.id, theirs.id, `${noun} show: id`);
      assert.equal(ours.name, theirs.name, `${noun} show: name`);
    }
  });

  k2kKinds.forEach((kind, i) => {
    it(`${kind.list.join(' ')} through K2K (${HOME_CLOUD} → ${CLOUD}): same IDs as openstack --os-service-provider`, () => {
      // the K2K user lands in the same demo project of the SP, so it sees what this test made there
      compare(kind, seen.k2kBefore[i]!, k2k.ocx[i]!, k2k.after[i]!);
    });
  });
});
