import assert from 'node:assert/strict';
import { test } from 'node:test';
import { serviceRoot } from '../src/keystone.ts';
import { parsePath, pathFor, resourceOf } from '../src/paths.ts';
import { rewriteJson } from '../src/rewrite.ts';

const P = '0123456789abcdef0123456789abcdef';

test('devstack paths are split into service, version, project and resource', () => {
  const v = parsePath(`/volume/v3/${P}/volumes/abc/action`)!;
  assert.equal(v.service, 'block-storage');
  assert.equal(v.projectId, P);
  assert.deepEqual(v.segments, ['volumes', 'abc', 'action']);
  assert.deepEqual(resourceOf(v), { type: 'volumes', id: 'abc', exact: false });
  assert.equal(pathFor(v, 'remoteproj'), '/v3/remoteproj/volumes/abc/action');

  const s = parsePath('/compute/v2.1/servers/detail')!;
  assert.equal(s.projectId, undefined);
  assert.equal(resourceOf(s), undefined, 'detail is not an id');
  assert.equal(pathFor(s, 'x'), '/v2.1/servers/detail');

  const o = parsePath(`/object-store/v1/AUTH_${P}/photos/cat.jpg`)!;
  assert.equal(o.projectStyle, 'auth');
  assert.deepEqual(resourceOf(o), { type: 'containers', id: `${P}/photos`, exact: false });
  assert.equal(pathFor(o, 'r'), '/v1/AUTH_r/photos/cat.jpg');

  const q = parsePath(`/compute/v2.1/os-quota-sets/${P}`, P)!;
  assert.equal(resourceOf(q), undefined, 'a project id is not a resource');
  assert.equal(parsePath('/nothing/here'), undefined);
  assert.equal(parsePath('/image')!.version, undefined);
});

test('service roots drop the version and what follows', () => {
  assert.equal(serviceRoot('http://h/compute/v2.1'), 'http://h/compute');
  assert.equal(serviceRoot(`http://h:8776/v3/${P}`), 'http://h:8776');
  assert.equal(serviceRoot('http://h:9292'), 'http://h:9292');
  assert.equal(serviceRoot('http://h:9696/'), 'http://h:9696');
  assert.equal(serviceRoot(`http://h/object-store/v1/AUTH_${P}`), 'http://h/object-store');
});

test('links to the upstream are re-rooted on the proxy with the local project', () => {
  const doc = {
    volume: {
      links: [
        { rel: 'self', href: 'http://10.0.0.5:8776/v3/remote/volumes/v1' },
        { rel: 'bookmark', href: 'http://elsewhere/v3/remote/volumes/v1' },
      ],
      name: 'http://10.0.0.5:8776x',
    },
  };
  rewriteJson(doc, {
    upstreamRoot: 'http://10.0.0.5:8776',
    proxyRoot: 'http://proxy:9913/volume',
    remoteProjectId: 'remote',
    localProjectId: 'local',
  });
  assert.equal(doc.volume.links[0]!.href, 'http://proxy:9913/volume/v3/local/volumes/v1');
  assert.equal(doc.volume.links[1]!.href, 'http://elsewhere/v3/remote/volumes/v1');
  assert.equal(doc.volume.name, 'http://10.0.0.5:8776x');
});
