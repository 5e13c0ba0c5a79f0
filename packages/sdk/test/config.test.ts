import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  canonicalServiceType,
  cloudFromEnv,
  k2kCloudConfig,
  loadCloudsConfig,
  overridesFromEnv,
} from '../src/config/index.ts';
import { ConfigSandbox } from './config-helpers.ts';

const sandboxes: ConfigSandbox[] = [];
function sandbox(): ConfigSandbox {
  const s = new ConfigSandbox();
  sandboxes.push(s);
  return s;
}
after(() => {
  for (const s of sandboxes) s.cleanup();
});

const SIMPLE = (url: string) => `clouds:
  alpha:
    auth:
      auth_url: ${url}
      username: ada
      password: pw-a
      project_name: research
      user_domain_name: Default
      project_domain_name: Default
    region_name: North
`;

describe('search path', () => {
  it('finds clouds.yaml in ./, then ~/.config/openstack; the current directory wins', () => {
    const s = sandbox();
    s.write('home/.config/openstack/clouds.yaml', SIMPLE('https://home.example.net/v3'));
    let loaded = loadCloudsConfig(s.opts());
    assert.equal(loaded.cloudsFile, join(s.home, '.config/openstack/clouds.yaml'));
    assert.equal(loaded.getCloud('alpha').auth.auth_url, 'https://home.example.net/v3');

    s.write('cwd/clouds.yaml', SIMPLE('https://cwd.example.net/v3'));
    loaded = loadCloudsConfig(s.opts());
    assert.equal(loaded.cloudsFile, join(s.cwd, 'clouds.yaml'));
    assert.equal(loaded.getCloud('alpha').auth.auth_url, 'https://cwd.example.net/v3');
  });

  it('OS_CLIENT_CONFIG_FILE is tried before the search path', () => {
    const s = sandbox();
    s.write('cwd/clouds.yaml', SIMPLE('https://cwd.example.net/v3'));
    const explicit = s.write('elsewhere/my-clouds.yaml', SIMPLE('https://explicit.example.net/v3'));
    const loaded = loadCloudsConfig(s.opts({ OS_CLIENT_CONFIG_FILE: explicit }));
    assert.equal(loaded.cloudsFile, explicit);
    assert.equal(loaded.getCloud('alpha').auth.auth_url, 'https://explicit.example.net/v3');
  });

  it('an explicit file list is used as given, even with OS_CLIENT_CONFIG_FILE set', () => {
    const s = sandbox();
    const fromEnv = s.write('elsewhere/env-clouds.yaml', SIMPLE('https://env-file.example/v3'));
    const explicit = s.write('elsewhere/explicit.yaml', SIMPLE('https://explicit-list.example/v3'));
    const loaded = loadCloudsConfig({ ...s.opts({ OS_CLIENT_CONFIG_FILE: fromEnv }), files: { clouds: [explicit] } });
    assert.equal(loaded.cloudsFile, explicit);
    assert.equal(loaded.getCloud('alpha').auth.auth_url, 'https://explicit-list.example/v3');
  });

  it('reads clouds.yml and clouds.json too', () => {
    const s = sandbox();
    s.write(
      'home/.config/openstack/clouds.json',
      JSON.stringify({
        clouds: {
          j: { auth: { auth_url: 'https://json.example.net', username: 'u', password: 'p', project_id: 42 } },
        },
      }),
    );
    const loaded = loadCloudsConfig(s.opts());
    const j = loaded.getCloud('j');
    assert.equal(j.auth.auth_url, 'https://json.example.net');
    assert.equal(j.auth.project_id, '42', 'numeric ids become strings');
  });

  it('no files and no OS_* variables: no clouds, and asking for one says what was searched', () => {
    const s = sandbox();
    const loaded = loadCloudsConfig(s.opts());
    assert.deepEqual(loaded.cloudNames(), []);
    assert.throws(
      () => loaded.getCloud(),
      (e: Error & { code?: string }) => e.code === 'CONFIG_INVALID' && /no clouds\.yaml was found/.test(e.message),
    );
  });
});

describe("openstacksdk's documented examples", () => {
  // The example from openstacksdk's configuration docs, in our own values: a plain cloud, a cloud whose
  // credentials live in secure.yaml and whose endpoint comes from a profile, and a multi-region cloud.
  const CLOUDS = `clouds:
  harbour:
    region_name: Harbour-1
    auth:
      username: 'nell'
      password: not-the-real-one
      project_name: 'lighthouse'
      auth_url: 'https://keystone.harbour.example'
  corpnet:
    profile: corp-private
    region_name: east-2
    dns_api_version: 2
  fleet:
    profile: corp-private
    auth:
      username: fleetbot
      password: fleet-secret
      project_id: 770012
    regions:
    - east-1
    - east-2
    - west-9
`;
  const SECURE = `clouds:
  corpnet:
    auth:
      username: nell@corp.example
      password: secure-side
      project_name: nell@corp.example
`;
  const PUBLIC = `public-clouds:
  corp-private:
    auth:
      auth_url: https://{region_name}.keystone.corp.example:5000/v3
    identity_api_version: '3'
    volume_api_version: '3'
    image_format: raw
    regions:
    - east-1
    - east-2
`;

  function load() {
    const s = sandbox();
    s.write('home/.config/openstack/clouds.yaml', CLOUDS);
    s.write('home/.config/openstack/secure.yaml', SECURE);
    s.write('cwd/clouds-public.yaml', PUBLIC);
    return { s, loaded: loadCloudsConfig(s.opts()) };
  }

  it('lists the clouds and uses none by default when there are several', () => {
    const { loaded } = load();
    assert.deepEqual(loaded.cloudNames(), ['harbour', 'corpnet', 'fleet']);
    assert.equal(loaded.defaultCloud, undefined);
    assert.throws(
      () => loaded.getCloud(),
      (e: Error & { code?: string }) =>
        e.code === 'CONFIG_INVALID' && /several clouds are defined \(harbour, corpnet, fleet\)/.test(e.message),
    );
  });

  it('a plain password cloud resolves with the defaults openstacksdk applies', () => {
    const { loaded } = load();
    const c = loaded.getCloud('harbour');
    assert.equal(c.name, 'harbour');
    assert.equal(c.regionName, 'Harbour-1');
    assert.deepEqual(c.regions, ['Harbour-1']);
    assert.equal(c.authType, 'password');
    assert.equal(c.interface, 'public');
    assert.equal(c.identityApiVersion, '3');
    assert.equal(c.verify, true);
    assert.equal(c.auth.username, 'nell');
    assert.equal(c.auth.project_name, 'lighthouse');
    // python-openstackclient assumes the default domain when none is given
    assert.equal(c.auth.user_domain_id, 'default');
    assert.equal(c.auth.project_domain_id, 'default');
  });

  it('secure.yaml is merged on top of clouds.yaml and the profile supplies auth_url per region', () => {
    const { loaded } = load();
    assert.match(loaded.secureFile ?? '', /secure\.yaml$/);
    const c = loaded.getCloud('corpnet');
    assert.equal(c.auth.username, 'nell@corp.example');
    assert.equal(c.auth.password, 'secure-side');
    assert.equal(c.regionName, 'east-2');
    assert.equal(c.auth.auth_url, 'https://east-2.keystone.corp.example:5000/v3');
    assert.equal(c.services.dns?.apiVersion, '2');
    assert.equal(c.services['block-storage']?.apiVersion, '3', 'volume_api_version from the profile');
    assert.equal(c.extra.image_format, 'raw');
  });

  it('a region list gives one config per region, each with its templated auth_url', () => {
    const { loaded } = load();
    assert.deepEqual(loaded.regionsOf('fleet'), ['east-1', 'east-2', 'west-9']);
    const all = loaded.getAllClouds().filter((c) => c.name === 'fleet');
    assert.deepEqual(
      all.map((c) => [c.regionName, c.auth.auth_url]),
      [
        ['east-1', 'https://east-1.keystone.corp.example:5000/v3'],
        ['east-2', 'https://east-2.keystone.corp.example:5000/v3'],
        ['west-9', 'https://west-9.keystone.corp.example:5000/v3'],
      ],
    );
    assert.equal(all[0]?.auth.project_id, '770012');
    // getCloud without a region picks the first one
    assert.equal(loaded.getCloud('fleet').regionName, 'east-1');
    assert.equal(loaded.getCloud('fleet', { region: 'west-9' }).regionName, 'west-9');
  });

  it('asking for a region the cloud does not declare is an error listing the valid ones', () => {
    const { loaded } = load();
    assert.throws(
      () => loaded.getCloud('fleet', { region: 'EAST-1' }),
      (e: Error & { code?: string; cloud?: string; key?: string }) =>
        e.code === 'CONFIG_INVALID' &&
        e.cloud === 'fleet' &&
        e.key === 'region_name' &&
        /expected one of east-1, east-2, west-9/.test(e.message),
    );
  });

  it('getAllClouds returns every cloud × region', () => {
    const { loaded } = load();
    assert.deepEqual(
      loaded.getAllClouds().map((c) => `${c.name}/${c.regionName}`),
      ['harbour/Harbour-1', 'corpnet/east-2', 'fleet/east-1', 'fleet/east-2', 'fleet/west-9'],
    );
  });

  it('per-region values override cloud settings (the internap-style example)', () => {
    const s = sandbox();
    s.write(
      'cwd/clouds.yaml',
      `clouds:
  dcnet:
    auth:
      auth_url: https://id.dcnet.example/v3
      username: api-77
      password: xyz
      project_name: tenant-77
    regions:
    - name: ams
      values:
        networks:
        - name: WAN-ams
          routes_externally: true
        - name: LAN-ams
    - name: nyc
      values:
        networks:
        - name: WAN-nyc
          routes_externally: true
        compute_endpoint_override: https://nova-nyc.dcnet.example/v2.1
        auth:
          project_name: tenant-77-nyc
`,
    );
    const loaded = loadCloudsConfig(s.opts());
    const ams = loaded.getCloud('dcnet', { region: 'ams' });
    const nyc = loaded.getCloud('dcnet', { region: 'nyc' });
    assert.deepEqual(
      (ams.extra.networks as Array<{ name: string }>).map((n) => n.name),
      ['WAN-ams', 'LAN-ams'],
    );
    assert.deepEqual(
      (nyc.extra.networks as Array<{ name: string }>).map((n) => n.name),
      ['WAN-nyc'],
    );
    assert.equal(ams.services.compute?.endpointOverride, undefined);
    assert.equal(nyc.services.compute?.endpointOverride, 'https://nova-nyc.dcnet.example/v2.1');
    assert.equal(ams.auth.project_name, 'tenant-77');
    assert.equal(nyc.auth.project_name, 'tenant-77-nyc', 'region values may override auth keys');
    assert.equal(nyc.auth.username, 'api-77', 'and keep the rest of auth');
  });

  it('project settings at the top level of a cloud beat the ones inside auth (the mtvexx example)', () => {
    const s = sandbox();
    s.write(
      'cwd/clouds.yaml',
      `clouds:
  twice:
    auth:
      auth_url: https://id.twice.example
      username: mo
      password: secret
      project_name: less-favourite
      project_id: 0c0c0c0c
    region_name: r1
    project_name: favourite
    project_id: 1d1d1d1d
`,
    );
    const c = loadCloudsConfig(s.opts()).getCloud('twice');
    assert.equal(c.auth.project_name, 'favourite');
    assert.equal(c.auth.project_id, '1d1d1d1d');
  });

  it('TLS settings: verify false, cacert, client cert and key, and the deprecated insecure', () => {
    const s = sandbox();
    s.write(
      'cwd/clouds.yaml',
      `clouds:
  signed:
    auth: {auth_url: 'https://signed.example:5000', username: u, password: p}
  private-ca:
    auth: {auth_url: 'https://private.example:5000', username: u, password: p}
    key: /home/me/client.key
    cert: /home/me/client.crt
    cacert: /home/me/ca.crt
  self-signed:
    auth: {auth_url: 'https://self.example:5000', username: u, password: p}
    verify: False
    cacert: /ignored/because/verify/is/false.crt
  old-style:
    auth: {auth_url: 'https://old.example:5000', username: u, password: p}
    insecure: true
`,
    );
    const loaded = loadCloudsConfig(s.opts());
    assert.equal(loaded.getCloud('signed').verify, true);
    const p = loaded.getCloud('private-ca');
    assert.equal(p.verify, '/home/me/ca.crt');
    assert.equal(p.cert, '/home/me/client.crt');
    assert.equal(p.key, '/home/me/client.key');
    assert.equal(loaded.getCloud('self-signed').verify, false);
    assert.equal(loaded.getCloud('old-style').verify, false);
  });
});

describe('auth types (the documented auth examples)', () => {
  const FILE = `clouds:
  project-scoped:
    auth:
      auth_url: http://id.example.org/identity
      password: pw
      project_domain_id: default
      project_name: admin
      user_domain_id: default
      username: admin
    region_name: RegionOne
  domain-scoped:
    auth:
      auth_url: http://id.example.org/identity
      domain_id: default
      password: pw
      username: admin
    region_name: RegionOne
  trust-scoped:
    auth:
      auth_url: http://id.example.org/identity
      password: pw
      username: admin
      trust_id: 11aa22bb33cc
  system-scoped:
    auth:
      auth_url: http://id.example.org/identity
      password: pw
      system_scope: all
      username: admin
  v3password:
    auth_type: v3password
    auth:
      auth_url: http://id.example.org/identity
      user_id: 0123abcd
      password: pw
      project_id: 4567ef
  appcred:
    auth_type: v3applicationcredential
    auth:
      auth_url: http://id.example.org/identity
      application_credential_id: 9f9f9f
      application_credential_secret: shhh
    region_name: RegionOne
  appcred-by-name:
    auth_type: applicationcredential
    auth:
      auth_url: http://id.example.org/identity
      application_credential_name: ci-bot
      application_credential_secret: shhh
      username: ci
      user_domain_name: Users
  token:
    auth_type: token
    auth:
      auth_url: http://id.example.org/identity
      token: opaque-token-1
      project_id: 1fd9
  v3token:
    auth_type: v3token
    auth:
      auth_url: http://id.example.org/identity
      auth_token: opaque-token-2
      project_name: p
      project_domain_name: D
  totp:
    auth_type: v3totp
    auth:
      auth_url: http://id.example.org/identity
      passcode: 123456
      username: admin
  legacy-plugin-key:
    auth_plugin: token
    auth:
      auth_url: http://id.example.org/identity
      token: opaque-token-3
  tenant-words:
    auth:
      auth_url: http://id.example.org/identity
      username: old
      password: pw
      tenant_name: old-project
`;
  function load() {
    const s = sandbox();
    s.write('cwd/clouds.yaml', FILE);
    return loadCloudsConfig(s.opts());
  }

  it('password, project-scoped', () => {
    const c = load().getCloud('project-scoped');
    assert.equal(c.authType, 'password');
    assert.deepEqual(
      { ...c.auth },
      {
        auth_url: 'http://id.example.org/identity',
        password: 'pw',
        project_domain_id: 'default',
        project_name: 'admin',
        user_domain_id: 'default',
        username: 'admin',
      },
    );
  });

  it('password, domain-scoped keeps domain_id as the scope', () => {
    const c = load().getCloud('domain-scoped');
    assert.equal(c.auth.domain_id, 'default');
    assert.equal(c.auth.project_name, undefined);
  });

  it('password, trust- and system-scoped keep their scope keys', () => {
    const loaded = load();
    assert.equal(loaded.getCloud('trust-scoped').auth.trust_id, '11aa22bb33cc');
    assert.equal(loaded.getCloud('system-scoped').auth.system_scope, 'all');
  });

  it('v3password by user id', () => {
    const c = load().getCloud('v3password');
    assert.equal(c.authType, 'v3password');
    assert.equal(c.auth.user_id, '0123abcd');
    assert.equal(c.auth.user_domain_id, undefined, 'no domain is needed for a user given by id');
  });

  it('application credentials by id and by name', () => {
    const loaded = load();
    const byId = loaded.getCloud('appcred');
    assert.equal(byId.authType, 'v3applicationcredential');
    assert.equal(byId.auth.application_credential_id, '9f9f9f');
    const byName = loaded.getCloud('appcred-by-name');
    assert.equal(byName.authType, 'applicationcredential');
    assert.equal(byName.auth.application_credential_name, 'ci-bot');
    assert.equal(byName.auth.user_domain_name, 'Users');
  });

  it('token and v3token (auth_token is the old spelling of token)', () => {
    const loaded = load();
    const t = loaded.getCloud('token');
    assert.equal(t.authType, 'token');
    assert.equal(t.auth.token, 'opaque-token-1');
    const v3 = loaded.getCloud('v3token');
    assert.equal(v3.authType, 'v3token');
    assert.equal(v3.auth.token, 'opaque-token-2');
    assert.equal(v3.auth.auth_token, undefined);
  });

  it('auth_plugin is the old name of auth_type; tenant_name the old name of project_name', () => {
    const loaded = load();
    assert.equal(loaded.getCloud('legacy-plugin-key').authType, 'token');
    assert.equal(loaded.getCloud('tenant-words').auth.project_name, 'old-project');
  });

  it('an auth type OCX does not implement fails for that cloud only, naming it', () => {
    const loaded = load();
    assert.throws(
      () => loaded.getCloud('totp'),
      (e: Error & { code?: string; key?: string; cloud?: string }) =>
        e.code === 'CONFIG_INVALID' && e.cloud === 'totp' && e.key === 'auth_type' && /v3totp/.test(e.message),
    );
    assert.equal(loaded.getCloud('token').auth.token, 'opaque-token-1');
  });
});

describe('OS_* environment', () => {
  const ENV = {
    OS_AUTH_URL: 'https://env.example.com:5000/v3',
    OS_USERNAME: 'envuser',
    OS_PASSWORD: 'envpass',
    OS_PROJECT_NAME: 'envproj',
    OS_USER_DOMAIN_NAME: 'EnvDomain',
    OS_PROJECT_DOMAIN_ID: 'env-domain-id',
    OS_REGION_NAME: 'EnvRegion',
    OS_INTERFACE: 'internal',
    OS_IDENTITY_API_VERSION: '3',
    OS_CACERT: '/etc/ssl/env-ca.pem',
    OS_COMPUTE_API_VERSION: '2.79',
    OS_VOLUME_API_VERSION: '3.50',
  };

  it('OS_* variables make an envvars cloud, which becomes the default', () => {
    const s = sandbox();
    const loaded = loadCloudsConfig(s.opts(ENV));
    assert.deepEqual(loaded.cloudNames(), ['envvars']);
    assert.equal(loaded.defaultCloud, 'envvars');
    const c = loaded.getCloud();
    assert.equal(c.name, 'envvars');
    assert.equal(c.auth.auth_url, 'https://env.example.com:5000/v3');
    assert.equal(c.auth.username, 'envuser');
    assert.equal(c.auth.password, 'envpass');
    assert.equal(c.auth.project_name, 'envproj');
    assert.equal(c.auth.user_domain_name, 'EnvDomain');
    assert.equal(c.auth.project_domain_id, 'env-domain-id');
    assert.equal(c.regionName, 'EnvRegion');
    assert.equal(c.interface, 'internal');
    assert.equal(c.verify, '/etc/ssl/env-ca.pem');
    assert.equal(c.services.compute?.apiVersion, '2.79');
    assert.equal(c.services['block-storage']?.apiVersion, '3.50');
    assert.equal(c.sourceFile, 'environment (OS_* variables)');
  });

  it('cloudFromEnv builds the same cloud without reading files', () => {
    const c = cloudFromEnv(ENV);
    assert.equal(c?.auth.username, 'envuser');
    assert.equal(cloudFromEnv({ OS_CLOUD: 'x', OS_REGION_NAME: 'r' }), undefined, 'selectors alone make no cloud');
  });

  it('OS_CLOUD_NAME renames the envvars cloud and OS_CLOUD picks a file cloud over it', () => {
    const s = sandbox();
    s.write('cwd/clouds.yaml', SIMPLE('https://file.example/v3'));
    const loaded = loadCloudsConfig(s.opts({ ...ENV, OS_CLOUD_NAME: 'from-env', OS_CLOUD: 'alpha' }));
    assert.deepEqual(loaded.cloudNames(), ['alpha', 'from-env']);
    assert.equal(loaded.defaultCloud, 'alpha');
    assert.equal(loaded.getCloud().auth.auth_url, 'https://file.example/v3');
    assert.equal(loaded.getCloud('from-env').auth.username, 'envuser');
  });

  it('OS_TOKEN alone means token auth; application credentials from the environment', () => {
    const t = cloudFromEnv({ OS_AUTH_URL: 'https://k.example/v3', OS_TOKEN: 'tok', OS_PROJECT_ID: 'p1' });
    assert.equal(t?.authType, 'token');
    assert.equal(t?.auth.token, 'tok');
    const a = cloudFromEnv({
      OS_AUTH_URL: 'https://k.example/v3',
      OS_AUTH_TYPE: 'v3applicationcredential',
      OS_APPLICATION_CREDENTIAL_ID: 'ac1',
      OS_APPLICATION_CREDENTIAL_SECRET: 'acs',
    });
    assert.equal(a?.authType, 'v3applicationcredential');
    assert.equal(a?.auth.application_credential_secret, 'acs');
  });

  it('a file cloud named like the env cloud is refused', () => {
    const s = sandbox();
    s.write(
      'cwd/clouds.yaml',
      `clouds:\n  envvars:\n    auth: {auth_url: 'https://x.example', username: u, password: p}\n`,
    );
    assert.throws(
      () => loadCloudsConfig(s.opts(ENV)),
      (e: Error & { code?: string }) => e.code === 'CONFIG_INVALID' && /OS_CLOUD_NAME/.test(e.message),
    );
  });

  it('OS_CLOUD selects the default; a single cloud is used automatically', () => {
    const s = sandbox();
    s.write('cwd/clouds.yaml', SIMPLE('https://one.example/v3'));
    assert.equal(loadCloudsConfig(s.opts()).defaultCloud, 'alpha');
    assert.equal(loadCloudsConfig(s.opts()).getCloud().name, 'alpha');
    assert.equal(loadCloudsConfig(s.opts({ OS_CLOUD: 'other' })).defaultCloud, 'other');
    assert.throws(
      () => loadCloudsConfig(s.opts({ OS_CLOUD: 'other' })).getCloud(),
      (e: Error & { code?: string }) =>
        e.code === 'CONFIG_INVALID' && /cloud 'other' is not defined \(defined: alpha/.test(e.message),
    );
  });
});

describe('overrides (python-openstackclient --os-* options and OS_* over --os-cloud)', () => {
  it('win over clouds.yaml, inside auth too, and can switch the auth type', () => {
    const s = sandbox();
    s.write('cwd/clouds.yaml', SIMPLE('https://file.example/v3'));
    const loaded = loadCloudsConfig(s.opts());
    const c = loaded.getCloud('alpha', {
      overrides: { password: 'from-flag', project_name: 'other', interface: 'internal', compute_api_version: '2.60' },
    });
    assert.equal(c.auth.password, 'from-flag');
    assert.equal(c.auth.project_name, 'other');
    assert.equal(c.auth.username, 'ada', 'what the override does not name stays');
    assert.equal(c.interface, 'internal');
    assert.equal(c.services.compute?.apiVersion, '2.60');
    const t = loaded.getCloud('alpha', { overrides: { auth_type: 'token', token: 'tok' } });
    assert.equal(t.authType, 'token');
    assert.equal(t.auth.token, 'tok');
    assert.equal(loaded.getCloud('alpha').auth.password, 'pw-a', 'the loaded config itself is unchanged');
  });

  it('a clouds.yaml without the password works with the password from OS_PASSWORD', () => {
    const s = sandbox();
    s.write(
      'cwd/clouds.yaml',
      `clouds:\n  nopw:\n    auth: {auth_url: 'https://k.example/v3', username: u, project_name: p}\n`,
    );
    const env = { OS_PASSWORD: 'env-secret', OS_CLOUD: 'nopw' };
    const loaded = loadCloudsConfig(s.opts(env));
    assert.throws(
      () => loaded.getCloud('nopw'),
      (e: Error & { key?: string }) => e.key === 'auth.password',
    );
    assert.equal(loaded.getCloud('nopw', { overrides: overridesFromEnv(env) }).auth.password, 'env-secret');
  });
});

describe('networks (openstacksdk network-config)', () => {
  it('normalizes the documented networks list and the legacy external/internal_network keys', () => {
    const s = sandbox();
    s.write(
      'cwd/clouds.yaml',
      `clouds:
  colourful:
    auth: {auth_url: 'https://k.example/v3', username: u, password: p}
    networks:
    - name: blue
      routes_externally: true
    - name: purple
      routes_externally: true
      default_interface: true
    - name: yellow
      routes_externally: false
      nat_destination: true
    - name: chartreuse
      routes_ipv6_externally: 'true'
  legacy:
    auth: {auth_url: 'https://k.example/v3', username: u, password: p}
    external_network: ext-net
    internal_network: int-net
  twodefaults:
    auth: {auth_url: 'https://k.example/v3', username: u, password: p}
    networks:
    - {name: a, default_interface: true}
    - {name: b, default_interface: true}
  noname:
    auth: {auth_url: 'https://k.example/v3', username: u, password: p}
    networks:
    - {routes_externally: true}
`,
    );
    const loaded = loadCloudsConfig(s.opts());
    const nets = loaded.getCloud('colourful').extra.networks as Array<Record<string, unknown>>;
    assert.deepEqual(nets[0], {
      name: 'blue',
      routes_externally: true,
      routes_ipv4_externally: true,
      routes_ipv6_externally: true,
      nat_source: false,
      nat_destination: false,
      default_interface: false,
    });
    assert.equal(nets[1]?.default_interface, true);
    assert.equal(nets[2]?.nat_destination, true);
    assert.deepEqual([nets[3]?.routes_ipv4_externally, nets[3]?.routes_ipv6_externally], [false, true]);
    const legacy = loaded.getCloud('legacy').extra.networks as Array<Record<string, unknown>>;
    assert.deepEqual(
      legacy.map((n) => [n.name, n.routes_externally, n.nat_destination, n.default_interface]),
      [
        ['ext-net', true, false, true],
        ['int-net', false, true, false],
      ],
    );
    assert.throws(
      () => loaded.getCloud('twodefaults'),
      (e: Error & { key?: string }) => e.key === 'networks[1].default_interface' && /only one network/.test(e.message),
    );
    assert.throws(
      () => loaded.getCloud('noname'),
      (e: Error & { key?: string }) => e.key === 'networks[0].name' && /expected the name/.test(e.message),
    );
  });
});

describe('per-service settings', () => {
  it('api versions, endpoint overrides, service type/name and interface, keyed by canonical service type', () => {
    const s = sandbox();
    s.write(
      'cwd/clouds.yaml',
      `clouds:
  svc:
    auth: {auth_url: 'https://k.example/v3', username: u, password: p, project_name: x}
    interface: internal
    endpoint_type: admin
    compute_api_version: '2.95'
    volume_api_version: 3
    block_storage_endpoint_override: https://cinder.override.example/v3
    object_store_endpoint_override: https://swift.override.example/v1/AUTH_x
    image_endpoint_type: publicURL
    network_interface: admin
    database_service_type: 'rax:database'
    compute_service_name: nova-west
    baremetal_default_microversion: '1.80'
    api_timeout: 30
    floating_ip_source: nova
`,
    );
    const c = loadCloudsConfig(s.opts()).getCloud('svc');
    assert.equal(c.interface, 'internal', 'interface wins over the older endpoint_type');
    assert.deepEqual(c.services.compute, { apiVersion: '2.95', serviceName: 'nova-west' });
    assert.deepEqual(c.services['block-storage'], {
      apiVersion: '3',
      endpointOverride: 'https://cinder.override.example/v3',
    });
    assert.equal(c.services['object-store']?.endpointOverride, 'https://swift.override.example/v1/AUTH_x');
    assert.equal(c.services.image?.interface, 'public');
    assert.equal(c.services.network?.interface, 'admin');
    assert.equal(c.services.database?.serviceType, 'rax:database');
    assert.equal(c.services.baremetal?.defaultMicroversion, '1.80');
    assert.equal(c.services.identity?.apiVersion, '3');
    assert.equal(c.apiTimeout, 30);
    assert.equal(c.extra.floating_ip_source, 'nova', 'keys OCX does not interpret are kept in extra');
  });

  it('canonical service types', () => {
    assert.equal(canonicalServiceType('volume'), 'block-storage');
    assert.equal(canonicalServiceType('volumev3'), 'block-storage');
    assert.equal(canonicalServiceType('block_storage'), 'block-storage');
    assert.equal(canonicalServiceType('object_store'), 'object-store');
    assert.equal(canonicalServiceType('compute'), 'compute');
    assert.equal(canonicalServiceType('something_new'), 'something-new');
  });
});

describe('K2K clouds (OCX extension)', () => {
  const FILE = `clouds:
  home:
    auth:
      auth_url: https://idp.example/v3
      username: demo
      password: demo-secret
      project_name: demo
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
  partner:
    federation:
      home_cloud: home
      service_provider: sp-partner
      remote_project_name: demo
      remote_project_domain_name: Default
    region_name: RegionTwo
    compute_api_version: '2.1'
`;
  it('a federation cloud resolves with its home cloud and needs no credentials of its own', () => {
    const s = sandbox();
    s.write('cwd/clouds.yaml', FILE);
    const c = loadCloudsConfig(s.opts()).getCloud('partner');
    assert.equal(c.regionName, 'RegionTwo');
    assert.equal(c.federation?.homeCloud, 'home');
    assert.equal(c.federation?.serviceProvider, 'sp-partner');
    assert.equal(c.federation?.remoteProjectName, 'demo');
    assert.equal(c.federation?.remoteProjectDomainName, 'Default');
    assert.equal(c.federation?.home?.auth.auth_url, 'https://idp.example/v3');
    assert.equal(c.services.compute?.apiVersion, '2.1');
  });

  it('k2kCloudConfig builds the same shape on the fly (the CLI --os-service-provider options)', () => {
    const s = sandbox();
    s.write('cwd/clouds.yaml', FILE);
    const home = loadCloudsConfig(s.opts()).getCloud('home');
    const c = k2kCloudConfig(home, { serviceProvider: 'sp9', remoteProjectId: 'abc' });
    assert.equal(c.federation?.homeCloud, 'home');
    assert.equal(c.federation?.home, home);
    assert.equal(c.federation?.remoteProjectId, 'abc');
  });
});
