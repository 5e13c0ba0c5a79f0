// clouds.yaml `gateway:` (a cloud reached through an OCX gateway): what it resolves to, and CONFIG_INVALID errors
// naming the file, the cloud and the key for what is wrong in it.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { loadCloudsConfig } from '../src/config/index.ts';
import { isOcxError, type OcxError } from '../src/errors/index.ts';
import { ConfigSandbox } from './config-helpers.ts';

const sandboxes: ConfigSandbox[] = [];
after(() => {
  for (const s of sandboxes) s.cleanup();
});

const AUTH = `auth: {auth_url: 'https://k.example/v3', username: u, password: p, project_name: x}`;

function load(cloud: string) {
  const s = new ConfigSandbox();
  sandboxes.push(s);
  const file = s.write(
    'cwd/clouds.yaml',
    `clouds:\n  home:\n    ${AUTH}\n  gw:\n    ${AUTH}\n    region_name: RegionOne\n${cloud}`,
  );
  return { file, get: () => loadCloudsConfig(s.opts()).getCloud('gw') };
}

function configError(fn: () => unknown): OcxError {
  try {
    fn();
  } catch (err) {
    assert.ok(isOcxError(err, 'CONFIG_INVALID'), `expected CONFIG_INVALID, got ${String(err)}`);
    return err as OcxError;
  }
  return assert.fail('expected CONFIG_INVALID');
}

describe('clouds.yaml gateway:', () => {
  it('resolves url, the gateway cloud (default: the entry name), any region, TLS as openstacksdk reads verify/cacert', () => {
    const plain = load('    gateway: {url: "http://127.0.0.1:9914/"}\n').get();
    assert.deepEqual(plain.gateway, { url: 'http://127.0.0.1:9914', cloud: 'gw', region: '', verify: true });
    assert.equal(plain.regionName, 'RegionOne');
    const tls = load(
      '    gateway: {url: "https://gw.example:9914", cloud: sp1, region: R2, cacert: /ca.pem, cert: /c.pem, key: /k.pem}\n',
    ).get();
    assert.deepEqual(tls.gateway, {
      url: 'https://gw.example:9914',
      cloud: 'sp1',
      region: 'R2',
      verify: '/ca.pem',
      cert: '/c.pem',
      key: '/k.pem',
    });
    assert.equal(
      load('    gateway: {url: "https://gw.example", insecure: true, cacert: /ca.pem}\n').get().gateway?.verify,
      false,
    );
    assert.equal(load('    gateway: {url: "https://gw.example", verify: "no"}\n').get().gateway?.verify, false);
  });

  it('an application credential behind a gateway needs no auth_url (the gateway exchanges it); a password does', () => {
    const s = new ConfigSandbox();
    sandboxes.push(s);
    const file = s.write(
      'cwd/clouds.yaml',
      `clouds:
  script:
    auth_type: v3applicationcredential
    auth: {application_credential_id: ac1, application_credential_secret: s3cret}
    gateway: {url: "http://127.0.0.1:9914", cloud: sp1}
  person:
    auth: {username: u, password: p, project_name: x}
    gateway: {url: "http://127.0.0.1:9914", cloud: sp1}
`,
    );
    const config = loadCloudsConfig(s.opts());
    assert.equal(config.getCloud('script').auth.auth_url, undefined);
    assert.equal(config.getCloud('script').gateway?.cloud, 'sp1');
    const e = configError(() => config.getCloud('person'));
    assert.equal(e.key, 'auth.auth_url');
    assert.equal(e.file, file);
  });

  it('errors name the file, the cloud and the key', () => {
    const cases: [string, string, RegExp][] = [
      ['    gateway: {cloud: sp1}\n', 'gateway.url', /expected a URL string/],
      ['    gateway: {url: "ftp://x"}\n', 'gateway.url', /expected an http\(s\) URL/],
      ['    gateway: {url: "https://x", cert: /c.pem}\n', 'gateway.key', /a client cert needs its key/],
      ['    gateway: {url: "https://x", tls: yes}\n', 'gateway', /unknown gateway setting 'tls'/],
      ['    gateway: "http://x"\n', 'gateway', /expected a mapping with the gateway's url/],
      [
        '    gateway: {url: "http://x", cacert: /ca.pem}\n',
        'gateway.url',
        /TLS settings need an https:\/\/ gateway URL/,
      ],
      [
        '    gateway: {url: "http://x"}\n    federation: {home_cloud: home, service_provider: sp}\n',
        'gateway',
        /cannot also name federation/,
      ],
    ];
    for (const [yaml, key, expected] of cases) {
      const { file, get } = load(yaml);
      const e = configError(get);
      assert.equal(e.file, file, yaml);
      assert.equal(e.cloud, 'gw', yaml);
      assert.equal(e.key, key, yaml);
      assert.ok(e.message.includes(file) && e.message.includes("cloud 'gw'") && e.message.includes(`key '${key}'`));
      assert.match(e.message, expected, yaml);
    }
  });
});
