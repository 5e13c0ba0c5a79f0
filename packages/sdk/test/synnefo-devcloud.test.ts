/**
 * The Synnefo dialect end to end against devcloud's Synnefo cloud: the scenarios of the kamaki "Clients reference"
 * seed (authenticate and get name and uuid; usage and limits of cyclades.vm and cyclades.floating_ip; my projects;
 * quotas per project; create a floating IP in a given project; reassign a container whose project is out of space
 * to a project with room). The expected values are written from the examples in that seed and in Synnefo's API
 * guides as summarised in shared/reference/synnefo-quotas.md — e.g. the seed's system-project lines
 * "cyclades.vm: 1/2", "cyclades.floating_ip: 1/1", "pithos.diskspace: 20522192022/20522192022". One deliberate
 * difference: the seed prints "cyclades.disk: 40/40" (an old unit); Synnefo's code charges disk in bytes
 * (size << 30, synnefo/quotas/__init__.py), which is what is asserted here.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Devcloud, type SynnefoCloud, startDevcloud } from '@ocx/devcloud';
import { loadCloudsConfig } from '../src/config/index.ts';
import { MultiCloud } from '../src/multicloud/index.ts';
import { listProjects, listQuotas } from '../src/quotas/index.ts';
import { pithosBlockHash, SynnefoClient } from '../src/synnefo/index.ts';
import { createTransport } from '../src/transport/index.ts';

const GiB = 2 ** 30;
const SEED_DISKSPACE = 20522192022;

describe('Synnefo dialect on devcloud (the kamaki seed scenarios)', { timeout: 60_000 }, () => {
  let dc: Devcloud;
  let snf: SynnefoCloud;
  let dir: string;
  let cloudsYamlPath: string;
  let client: SynnefoClient;
  const transport = createTransport({});

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ocx-snf-'));
    cloudsYamlPath = join(dir, 'clouds.yaml');
    dc = await startDevcloud({ clouds: ['idp', 'snf'], cloudsYamlPath, transitionMs: 20, logLevel: 'silent' });
    snf = dc.synnefo[0] as SynnefoCloud;
    const config = loadCloudsConfig({
      files: { clouds: [cloudsYamlPath], secure: [], publicClouds: [] },
      loadEnv: false,
    });
    client = SynnefoClient.fromConfig(config.getCloud('snf'), transport);
  });
  after(async () => {
    await transport.close?.();
    await dc?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** kamaki's astakos-project-quotas.py output: `<resource>: <usage>/<limit>` per project. */
  async function quotaLines(projectId: string): Promise<string[]> {
    const q = (await client.getQuotas())[projectId] ?? {};
    return Object.keys(q)
      .sort()
      .map((r) => `${r}: ${q[r]?.usage}/${q[r]?.limit}`);
  }

  it('clouds.yaml describes the Synnefo cloud as kamaki does: an Astakos URL and a token', () => {
    const text = readFileSync(cloudsYamlPath, 'utf8');
    assert.match(
      text,
      /snf:\n {4}auth_type: "token"\n {4}dialect: "synnefo"\n {4}auth:\n {6}auth_url: "http:\/\/127\.0\.0\.1:\d+\/identity\/v2\.0"\n {6}token: "[0-9a-f]{32}"\n/,
    );
  });

  it('authenticate: get name and uuid (astakos-authenticate.py)', async () => {
    const access = await client.authenticate();
    assert.equal(access.user.name, 'User Example');
    assert.equal(access.user.id, snf.user.uuid);
    assert.match(access.user.id, /^[0-9a-f-]{36}$/);
    // The token's tenant is the user's default project, the system project until `setdefaultproject`.
    assert.equal(access.token.tenant.id, snf.user.uuid);
    assert.deepEqual(access.user.projects?.sort(), [snf.user.uuid, snf.labProject.id].sort());
    assert.deepEqual(access.serviceCatalog.map((s) => s.type).sort(), [
      'account',
      'compute',
      'identity',
      'image',
      'network',
      'object-store',
      'volume',
    ]);
    await assert.rejects(
      new SynnefoClient({ cloud: 'snf', astakosUrl: snf.astakosUrl, token: 'not-a-token', transport }).authenticate(),
      { code: 'AUTH_EXPIRED', status: 401 },
    );
  });

  it('my projects: the system project and CS333 (astakos-project-info.py)', async () => {
    const projects = await client.listProjects();
    const lines = projects
      .sort((a, b) => Number(b.system_project) - Number(a.system_project))
      .flatMap((p) => [`${p.name} (${p.id})`, `    ${p.description}`, ...(p.homepage ? [`    ${p.homepage}`] : [])]);
    assert.deepEqual(lines, [
      `system:${snf.user.uuid} (${snf.user.uuid})`,
      '    System project for user user@example.com',
      `CS333 lab assignments (${snf.labProject.id})`,
      '    Virtual clusters for CS333 assignments',
      '    https://university.example.com/courses/cs333',
    ]);
    const memberships = await client.listMemberships();
    assert.deepEqual(
      memberships.map((m) => m.state),
      ['accepted', 'accepted'],
    );
  });

  it('quotas per project, as in the seed, after creating what the seed shows in use', async () => {
    const system = snf.user.uuid;
    const lab = snf.labProject.id;
    // System project: one VM of 1 CPU / 2 GiB RAM / 40 GiB disk, one floating IP, its storage space full.
    await client.create('server', { name: 'vm-1', flavorRef: 2, imageRef: 'debian' });
    const ip = await client.create('floatingip', {});
    assert.equal(ip.tenant_id, system, 'created in the default (system) project');
    await client.createContainer('course_container');
    // A sparse file of exactly the seed's size: NUL blocks hash as empty blocks, so one block is sent.
    const up = await client.uploadBlocks('course_container', 'dataset.img', SEED_DISKSPACE, () => new Uint8Array(0));
    assert.equal(up.blocksSent, 1);
    // CS333: three VMs (4 CPUs, 4 GiB, 80 GiB), one private network, one floating IP, all in the project.
    for (const flavorRef of [1, 1, 3])
      await client.create('server', { name: `lab-${flavorRef}`, flavorRef, imageRef: 'debian' }, { project: lab });
    await client.create('network', { name: 'lab-net', type: 'MAC_FILTERED' }, { project: 'CS333 lab assignments' });
    // Create a floating IP in a given project (astakos-resource-allocation.py).
    const labIp = await client.create('floatingip', {}, { project: lab });
    assert.equal(labIp.tenant_id, lab);
    assert.equal(labIp.shared_to_project, false);

    assert.deepEqual(await quotaLines(system), [
      'cyclades.cpu: 1/2',
      `cyclades.disk: ${40 * GiB}/${40 * GiB}`,
      'cyclades.floating_ip: 1/1',
      'cyclades.network.private: 0/2',
      'cyclades.ram: 2147483648/2147483648',
      'cyclades.vm: 1/2',
      `pithos.diskspace: ${SEED_DISKSPACE}/${SEED_DISKSPACE}`,
    ]);
    assert.deepEqual(await quotaLines(lab), [
      'cyclades.cpu: 4/8',
      `cyclades.disk: ${80 * GiB}/${120 * GiB}`,
      'cyclades.floating_ip: 1/4',
      'cyclades.network.private: 1/5',
      'cyclades.ram: 4294967296/53687091200',
      'cyclades.vm: 3/4',
      'pithos.diskspace: 0/53687091200',
    ]);
    // Usage and limits for VMs and IPs (astakos-quotas.py): my_resources = all_resources[uuid].
    const mine = (await client.getQuotas())[system] ?? {};
    assert.deepEqual(
      ['cyclades.vm', 'cyclades.floating_ip'].map((r) => [r, mine[r]?.usage, mine[r]?.limit]),
      [
        ['cyclades.vm', 1, 2],
        ['cyclades.floating_ip', 1, 1],
      ],
    );
  });

  it('over a limit: 413 overLimit from Cyclades, OVER_QUOTA in the SDK, nothing charged', async () => {
    const before = await quotaLines(snf.user.uuid);
    await assert.rejects(client.create('floatingip', {}), (err: Error & { code?: string; status?: number }) => {
      assert.equal(err.code, 'OVER_QUOTA');
      assert.equal(err.status, 413);
      assert.match(err.message, /Resource Limit Exceeded for your account/);
      return true;
    });
    // The wire body as Synnefo's faults module writes it.
    const res = await fetch(`${snf.baseUrl}/cyclades/network/v2.0/floatingips`, {
      method: 'POST',
      headers: { 'x-auth-token': snf.user.token, 'content-type': 'application/json' },
      body: JSON.stringify({ floatingip: {} }),
    });
    assert.equal(res.status, 413);
    const body = (await res.json()) as { overLimit: { code: number; message: string; details: string } };
    assert.equal(body.overLimit.code, 413);
    assert.match(body.overLimit.details, /Limit for resource 'cyclades.floating_ip' exceeded/);
    assert.deepEqual(await quotaLines(snf.user.uuid), before);
  });

  it('Astakos commissions: a provision over the limit is answered with NoCapacityError', async () => {
    const res = await fetch(`${snf.baseUrl}/account/v1.0/commissions`, {
      method: 'POST',
      headers: { 'x-auth-token': snf.serviceToken, 'content-type': 'application/json' },
      body: JSON.stringify({
        force: false,
        auto_accept: true,
        name: 'test',
        provisions: [
          { holder: `user:${snf.user.uuid}`, source: `project:${snf.user.uuid}`, resource: 'cyclades.vm', quantity: 2 },
        ],
      }),
    });
    assert.equal(res.status, 413);
    const body = (await res.json()) as { overLimit: { data: Record<string, unknown> } };
    assert.deepEqual(body.overLimit.data, {
      provision: {
        holder: `user:${snf.user.uuid}`,
        source: `project:${snf.user.uuid}`,
        resource: 'cyclades.vm',
        quantity: 2,
      },
      name: 'NoCapacityError',
      limit: 2,
      usage: 1,
    });
  });

  it('reassign a floating IP: the destination is checked first; a move with room moves usage', async () => {
    const lab = snf.labProject.id;
    const system = snf.user.uuid;
    const labIp = (await fetchJson(`/cyclades/network/v2.0/floatingips`)).floatingips.find((f) => f.tenant_id === lab);
    assert.ok(labIp);
    // The system project's one floating IP is in use: the SDK refuses before changing anything.
    await assert.rejects(client.reassign('floatingip', String(labIp.id), system), {
      code: 'OVER_QUOTA',
      message: /project 'system:[0-9a-f-]+' has room for 0 of cyclades.floating_ip, 1 needed; nothing was changed/,
    });
    // The wire action alone is refused by the commission too (413), and charges nothing.
    const raw = await fetch(`${snf.baseUrl}/cyclades/network/v2.0/floatingips/${labIp.id}/action`, {
      method: 'POST',
      headers: { 'x-auth-token': snf.user.token, 'content-type': 'application/json' },
      body: JSON.stringify({ reassign: { project: system } }),
    });
    assert.equal(raw.status, 413);
    const missing = await fetch(`${snf.baseUrl}/cyclades/network/v2.0/floatingips/${labIp.id}/action`, {
      method: 'POST',
      headers: { 'x-auth-token': snf.user.token, 'content-type': 'application/json' },
      body: JSON.stringify({ reassign: {} }),
    });
    assert.equal(missing.status, 400);
    assert.equal(
      ((await missing.json()) as { badRequest: { message: string } }).badRequest.message,
      "Missing 'project' attribute.",
    );
    // The system IP moves to CS333, which has room: usage moves with it.
    const sysIp = (await fetchJson(`/cyclades/network/v2.0/floatingips`)).floatingips.find(
      (f) => f.tenant_id === system,
    );
    assert.ok(sysIp);
    await client.reassign('floatingip', String(sysIp.id), 'CS333 lab assignments');
    assert.equal((await client.get('floatingip', String(sysIp.id))).tenant_id, lab);
    const q = await client.getQuotas();
    assert.equal(q[system]?.['cyclades.floating_ip']?.usage, 0);
    assert.equal(q[lab]?.['cyclades.floating_ip']?.usage, 2);
  });

  it('reassign a container whose project is out of space to a project with room (astakos-project-reassign.py)', async () => {
    const system = snf.user.uuid;
    const lab = snf.labProject.id;
    // The system project is full: one more byte does not fit.
    await assert.rejects(client.upload('course_container', 'notes.txt', new TextEncoder().encode('one more')), {
      code: 'OVER_QUOTA',
      status: 413,
    });
    const q = (await client.getQuotas())[system]?.['pithos.diskspace'];
    assert.ok(q && q.usage >= q.limit, 'used up');
    const serials = snf.model.commissions.length;
    await client.reassignContainer('course_container', lab);
    // One commission: minus on the old project, plus on the new (issue_resource_reassignment).
    assert.equal(snf.model.commissions.length, serials + 1);
    assert.deepEqual(
      snf.model.commissions.at(-1)?.provisions.map((p) => [p.project, p.resource, p.quantity]),
      [
        [system, 'pithos.diskspace', -SEED_DISKSPACE],
        [lab, 'pithos.diskspace', SEED_DISKSPACE],
      ],
    );
    assert.equal((await client.getContainer('course_container')).project, lab);
    const after = await client.getQuotas();
    assert.equal(after[system]?.['pithos.diskspace']?.usage, 0);
    // The seed's CS333 line: "pithos.diskspace: 20522192022/53687091200".
    assert.equal(
      `pithos.diskspace: ${after[lab]?.['pithos.diskspace']?.usage}/${after[lab]?.['pithos.diskspace']?.limit}`,
      'pithos.diskspace: 20522192022/53687091200',
    );
    // Now there is room.
    await client.upload('course_container', 'notes.txt', new TextEncoder().encode('one more'));
    // Account headers: the pithos.diskspace limit of each project the user draws from, and their sum.
    const head = await fetch(`${snf.baseUrl}/pithos/object-store/v1/${system}`, {
      method: 'HEAD',
      headers: { 'x-auth-token': snf.user.token },
    });
    assert.equal(head.headers.get(`x-account-policy-quota-${system}`), String(SEED_DISKSPACE));
    assert.equal(head.headers.get(`x-account-policy-quota-${lab}`), '53687091200');
    assert.equal(head.headers.get('x-account-policy-quota'), String(SEED_DISKSPACE + 53687091200));
    assert.equal(head.headers.get('x-account-bytes-used'), String(SEED_DISKSPACE + 8));
  });

  it('hashmap transfers: only missing blocks are sent, unchanged re-uploads send none, NULs are stripped', async () => {
    await client.createContainer('files', { project: snf.labProject.id });
    const info = await client.getContainer('files');
    assert.deepEqual([info.blockSize, info.blockHash, info.project], [4 * 1024 * 1024, 'sha256', snf.labProject.id]);
    const size = 2 * info.blockSize + 1000;
    const data = new Uint8Array(size);
    for (let i = 0; i < size; i++) data[i] = (i * 7 + 3) % 251;
    data.fill(0, info.blockSize - 100, info.blockSize); // trailing NULs in the first block
    const received = snf.pithosBlocksReceived();
    assert.deepEqual(await client.upload('files', 'big.bin', data), { blocks: 3, blocksSent: 3, bytes: size });
    assert.equal(snf.pithosBlocksReceived() - received, 3);
    // Unchanged: the hashmap PUT answers 201 at once, no block travels.
    assert.deepEqual(await client.upload('files', 'big.bin', data), { blocks: 3, blocksSent: 0, bytes: size });
    assert.deepEqual(await client.upload('files', 'copy.bin', data), { blocks: 3, blocksSent: 0, bytes: size });
    assert.equal(snf.pithosBlocksReceived() - received, 3);
    // One block changed: one block sent.
    const changed = data.slice();
    changed[info.blockSize + 5] = (changed[info.blockSize + 5] ?? 0) ^ 0xff;
    assert.equal((await client.upload('files', 'big.bin', changed)).blocksSent, 1);
    const map = await client.getHashmap('files', 'big.bin');
    assert.equal(map.bytes, size);
    assert.equal(map.hashes[0], pithosBlockHash(data.subarray(0, info.blockSize - 100)), 'hash after NULs stripped');
    const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));
    assert.ok(same(await client.download('files', 'big.bin'), changed), 'big.bin reads back as uploaded');
    assert.ok(same(await client.download('files', 'copy.bin'), data), 'copy.bin reads back as uploaded');
  });

  it('Plankton: register a Pithos file as an image and list it; its bytes are the container project’s pithos.diskspace', async () => {
    // Written from kamaki's "Image registration" example (examplesdir/imageregister.rst) and Synnefo's image API
    // guide: upload debian_base3.diskdump to the container `pithos`, `image register 'Debian Base Alpha'
    // pithos:debian_base3.diskdump`, then the image shows with its location pithos://<uuid>/pithos/<path>.
    const lab = snf.labProject.id;
    const diskspace = async () => (await client.getQuotas())[lab]?.['pithos.diskspace']?.usage;
    await client.createContainer('pithos', { project: lab });
    const before = await diskspace();
    const file = new Uint8Array(5000).fill(7);
    await client.upload('pithos', 'debian_base3.diskdump', file);
    const uploaded = await diskspace();
    assert.equal(uploaded, (before as number) + 5000, 'the file is charged to the container’s project');

    const image = await client.registerImage('Debian Base Alpha', 'pithos', 'debian_base3.diskdump');
    assert.equal(image.name, 'Debian Base Alpha');
    assert.equal(image.location, `pithos://${snf.user.uuid}/pithos/debian_base3.diskdump`);
    assert.equal(image.owner, snf.user.uuid);
    assert.equal(image.size, 5000);
    assert.equal(image.is_public, false);
    assert.equal(image.disk_format, 'diskdump');
    assert.equal(image.container_format, 'bare');
    assert.match(image.checksum ?? '', /^[0-9a-f]{64}$/);
    assert.match(image.created_at ?? '', /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/, 'kamaki prints 2013-06-19 08:00:22');
    // Registering takes no quota: the image is the file already counted.
    assert.equal(await diskspace(), uploaded);

    const detail = await client.listImages();
    const mine = detail.find((i) => i.id === image.id);
    assert.ok(mine, 'the image is listed');
    assert.equal(mine.location, image.location);
    assert.equal(mine.size, 5000);
    const brief = await client.listImages({ detail: false });
    assert.deepEqual(
      brief.find((i) => i.id === image.id),
      {
        id: image.id,
        name: 'Debian Base Alpha',
        disk_format: 'diskdump',
        container_format: 'bare',
        size: 5000,
        status: image.status,
      },
    );
    // A location with no file behind it is refused.
    await assert.rejects(client.registerImage('x', 'pithos', 'no-such-file'), { status: 400 });
  });

  it('a Synnefo cloud in a MultiCloud: my projects and quota rows beside an OpenStack cloud', async () => {
    const config = loadCloudsConfig({
      files: { clouds: [cloudsYamlPath], secure: [], publicClouds: [] },
      loadEnv: false,
    });
    const multi = await MultiCloud.connect({ config, clouds: ['idp', 'snf'], authenticate: false });
    try {
      const { projects, failures } = await listProjects(multi);
      assert.deepEqual(failures, []);
      assert.deepEqual(
        projects.map((p) => `${p.location.cloud}:${p.name}:${p.current}`),
        ['idp:demo:true', `snf:system:${snf.user.uuid}:true`, 'snf:CS333 lab assignments:false'],
      );
      const quotas = await listQuotas(multi, { projects: ['CS333 lab assignments', 'demo'] });
      assert.deepEqual(quotas.failures, []);
      const vm = quotas.rows.find((r) => r.location.cloud === 'snf' && r.resource === 'cyclades.vm');
      assert.deepEqual(vm && [vm.usage, vm.limit, vm.projectUsage, vm.projectLimit, vm.unit, vm.service], [
        3,
        4,
        3,
        40,
        'count',
        'cyclades',
      ]);
      const ram = quotas.rows.find((r) => r.location.cloud === 'snf' && r.resource === 'cyclades.ram');
      assert.equal(ram?.unit, 'bytes');
      assert.ok(quotas.rows.some((r) => r.location.cloud === 'idp' && r.resource === 'compute.instances'));
    } finally {
      await multi.close();
    }
  });

  it('setdefaultproject: creates without a project go to the new default, the token tenant says so', async () => {
    const lab = snf.labProject.id;
    await client.setDefaultProject('CS333 lab assignments');
    assert.equal((await client.authenticate()).token.tenant.id, lab);
    const net = await client.create('network', { name: 'default-net', type: 'MAC_FILTERED' });
    assert.equal(net.tenant_id, lab);
    await client.setDefaultProject('system');
    assert.equal((await client.authenticate()).token.tenant.id, snf.user.uuid);
  });

  async function fetchJson(path: string): Promise<{ floatingips: Array<Record<string, unknown>> }> {
    const res = await fetch(`${snf.baseUrl}${path}`, { headers: { 'x-auth-token': snf.user.token } });
    return (await res.json()) as { floatingips: Array<Record<string, unknown>> };
  }
});
