import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { loadCloudsConfig } from '../src/config/index.ts';
import { isOcxError, type OcxError } from '../src/errors/index.ts';
import { ConfigSandbox } from './config-helpers.ts';

const sandboxes: ConfigSandbox[] = [];
after(() => {
  for (const s of sandboxes) s.cleanup();
});

/** Write clouds.yaml (and optionally secure.yaml) in a fresh sandbox's cwd. */
function setup(clouds: string, secure?: string) {
  const s = new ConfigSandbox();
  sandboxes.push(s);
  const file = s.write('cwd/clouds.yaml', clouds);
  const secureFile = secure === undefined ? undefined : s.write('cwd/secure.yaml', secure);
  return { s, file, secureFile };
}

/** Run `fn`, expect CONFIG_INVALID, and check the message names every given part. */
function expectConfigError(
  fn: () => unknown,
  want: { file?: string; cloud?: string; key?: string; expected: RegExp },
): OcxError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(isOcxError(caught, 'CONFIG_INVALID'), `expected CONFIG_INVALID, got ${String(caught)}`);
  const e = caught as OcxError;
  if (want.file !== undefined) {
    assert.ok(e.message.includes(want.file), `message names the file: ${e.message}`);
    assert.equal(e.file, want.file);
  }
  if (want.cloud !== undefined) {
    assert.ok(e.message.includes(`cloud '${want.cloud}'`), `message names the cloud: ${e.message}`);
    assert.equal(e.cloud, want.cloud);
  }
  if (want.key !== undefined) {
    assert.ok(e.message.includes(`key '${want.key}'`), `message names the key: ${e.message}`);
    assert.equal(e.key, want.key);
  }
  assert.match(e.message, want.expected);
  return e;
}

const GOOD_AUTH = `auth: {auth_url: 'https://k.example/v3', username: u, password: p, project_name: x}`;

describe('bad config: errors name the file, the cloud and the key, and say what was expected', () => {
  it('YAML that does not parse', () => {
    const { s, file } = setup('clouds:\n  a:\n    auth: [unclosed\n');
    expectConfigError(() => loadCloudsConfig(s.opts()), { file, expected: /not valid YAML/ });
  });

  it('a top level that is not a mapping', () => {
    const { s, file } = setup('- just\n- a list\n');
    expectConfigError(() => loadCloudsConfig(s.opts()), { file, expected: /expected a mapping at the top level/ });
  });

  it("'clouds' that is not a mapping", () => {
    const { s, file } = setup('clouds:\n  - a\n  - b\n');
    expectConfigError(() => loadCloudsConfig(s.opts()), {
      file,
      key: 'clouds',
      expected: /expected a mapping of cloud names to settings, got a list/,
    });
  });

  it('a cloud that is not a mapping', () => {
    const { s, file } = setup('clouds:\n  bad: just-a-string\n');
    expectConfigError(() => loadCloudsConfig(s.opts()).getCloud('bad'), {
      file,
      cloud: 'bad',
      expected: /expected a mapping of cloud settings, got the string "just-a-string"/,
    });
  });

  it('auth_url that is not a URL', () => {
    const { s, file } = setup(
      `clouds:\n  c1:\n    auth: {auth_url: 'keystone.example:5000', username: u, password: p}\n`,
    );
    expectConfigError(() => loadCloudsConfig(s.opts()).getCloud('c1'), {
      file,
      cloud: 'c1',
      key: 'auth.auth_url',
      expected: /expected an http\(s\) URL, got "keystone\.example:5000"/,
    });
  });

  it('a region entry with the wrong shape', () => {
    const { s, file } = setup(
      `clouds:\n  c2:\n    ${GOOD_AUTH}\n    regions:\n    - r1\n    - {name: r2, value: {}}\n`,
    );
    expectConfigError(() => loadCloudsConfig(s.opts()).getCloud('c2'), {
      file,
      cloud: 'c2',
      key: 'regions[1]',
      expected: /expected a region name or a mapping \{name, values\}/,
    });
  });

  it('an interface that does not exist', () => {
    const { s, file } = setup(`clouds:\n  c3:\n    ${GOOD_AUTH}\n    interface: private\n`);
    expectConfigError(() => loadCloudsConfig(s.opts()).getCloud('c3'), {
      file,
      cloud: 'c3',
      key: 'interface',
      expected: /expected one of public, internal, admin, got the string "private"/,
    });
  });

  it('an endpoint override that is not a URL', () => {
    const { s, file } = setup(`clouds:\n  c4:\n    ${GOOD_AUTH}\n    compute_endpoint_override: nova-host\n`);
    expectConfigError(() => loadCloudsConfig(s.opts()).getCloud('c4'), {
      file,
      cloud: 'c4',
      key: 'compute_endpoint_override',
      expected: /expected an http\(s\) URL/,
    });
  });

  it('api_timeout that is not a number', () => {
    const { s, file } = setup(`clouds:\n  c5:\n    ${GOOD_AUTH}\n    api_timeout: soon\n`);
    expectConfigError(() => loadCloudsConfig(s.opts()).getCloud('c5'), {
      file,
      cloud: 'c5',
      key: 'api_timeout',
      expected: /expected a number of seconds, got the string "soon"/,
    });
  });

  it('missing credentials for the auth type', () => {
    const { s, file } = setup(
      `clouds:\n  nopw:\n    auth: {auth_url: 'https://k.example/v3', username: u}\n  nourl:\n    auth: {username: u, password: p}\n  notoken:\n    auth_type: v3token\n    auth: {auth_url: 'https://k.example/v3'}\n`,
    );
    const loaded = loadCloudsConfig(s.opts());
    expectConfigError(() => loaded.getCloud('nopw'), {
      file,
      cloud: 'nopw',
      key: 'auth.password',
      expected: /expected a password/,
    });
    expectConfigError(() => loaded.getCloud('nourl'), {
      file,
      cloud: 'nourl',
      key: 'auth.auth_url',
      expected: /expected the Keystone URL/,
    });
    expectConfigError(() => loaded.getCloud('notoken'), {
      file,
      cloud: 'notoken',
      key: 'auth.token',
      expected: /expected a token/,
    });
  });

  it('Keystone v2 is refused with a reason', () => {
    const { s, file } = setup(`clouds:\n  old:\n    ${GOOD_AUTH}\n    identity_api_version: 2\n`);
    expectConfigError(() => loadCloudsConfig(s.opts()).getCloud('old'), {
      file,
      cloud: 'old',
      key: 'identity_api_version',
      expected: /expected 3 \(OCX speaks Keystone v3 only\), got '2'/,
    });
  });

  it('a problem in secure.yaml names secure.yaml, not clouds.yaml', () => {
    const { s, secureFile } = setup(
      `clouds:\n  c6:\n    auth: {auth_url: 'https://k.example/v3', username: u}\n`,
      `clouds:\n  c6:\n    auth: [p]\n`,
    );
    expectConfigError(() => loadCloudsConfig(s.opts()).getCloud('c6'), {
      file: secureFile!,
      cloud: 'c6',
      key: 'auth',
      expected: /expected a mapping of auth settings, got a list/,
    });
  });

  it('a federation cloud whose home cloud does not exist', () => {
    const { s, file } = setup(
      `clouds:\n  home:\n    ${GOOD_AUTH}\n  remote:\n    federation: {home_cloud: hme, service_provider: sp1}\n`,
    );
    expectConfigError(() => loadCloudsConfig(s.opts()).getCloud('remote'), {
      file,
      cloud: 'remote',
      key: 'federation.home_cloud',
      expected: /expected the name of a defined cloud, got 'hme' \(defined: home, remote\)/,
    });
  });

  it('a federation setting with a typo', () => {
    const { s, file } = setup(
      `clouds:\n  home:\n    ${GOOD_AUTH}\n  remote:\n    federation: {home_cloud: home, service_provider: sp1, remote_project: demo}\n`,
    );
    expectConfigError(() => loadCloudsConfig(s.opts()).getCloud('remote'), {
      file,
      cloud: 'remote',
      key: 'federation',
      expected: /unknown federation setting/,
    });
  });

  it('missing OS_* values name the environment variable', () => {
    const s = new ConfigSandbox();
    sandboxes.push(s);
    const loaded = loadCloudsConfig(s.opts({ OS_USERNAME: 'u', OS_PASSWORD: 'p' }));
    expectConfigError(() => loaded.getCloud(), {
      file: 'environment (OS_* variables)',
      cloud: 'envvars',
      key: 'OS_AUTH_URL',
      expected: /expected the Keystone URL/,
    });
  });

  it('one broken cloud does not stop the others from loading', () => {
    const { s } = setup(`clouds:\n  broken:\n    interface: sideways\n  fine:\n    ${GOOD_AUTH}\n`);
    const loaded = loadCloudsConfig(s.opts());
    assert.deepEqual(loaded.cloudNames(), ['broken', 'fine']);
    assert.equal(loaded.getCloud('fine').auth.username, 'u');
    assert.throws(
      () => loaded.getCloud('broken'),
      (e: Error & { code?: string }) => e.code === 'CONFIG_INVALID',
    );
  });
});
