/**
 * A password login of a clouds.yaml cloud of the real-OpenStack stack (test/real/openstack.sh writes the file), for
 * the real suites: the token, its project, the Keystone v3 URL and the public endpoint of each service type.
 */
import assert from 'node:assert/strict';
import { loadCloudsConfig } from '@ocx/sdk';
import { cloudsFile as defaultCloudsFile } from './real-target.ts';

export interface RealLogin {
  token: string;
  projectId: string;
  /** The Keystone v3 URL (…/v3). */
  identityUrl: string;
  /** The cloud's auth_url as clouds.yaml gives it (no trailing slash). */
  authUrl: string;
  /** Public endpoint per service type, without a trailing slash. */
  ep: Record<string, string>;
}

export async function realLogin(
  cloud: string,
  cloudsFile = defaultCloudsFile,
  timeoutMs = 120_000,
): Promise<RealLogin> {
  const c = loadCloudsConfig({
    files: { clouds: [cloudsFile], secure: [], publicClouds: [] },
    loadEnv: false,
  }).getCloud(cloud);
  const authUrl = String(c.auth.auth_url).replace(/\/+$/, '');
  const identityUrl = /\/v3$/.test(authUrl) ? authUrl : `${authUrl}/v3`;
  const r = await fetch(`${identityUrl}/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    signal: AbortSignal.timeout(timeoutMs),
    body: JSON.stringify({
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: c.auth.username, domain: { name: 'Default' }, password: c.auth.password } },
        },
        scope: { project: { name: c.auth.project_name, domain: { name: 'Default' } } },
      },
    }),
  });
  assert.equal(r.status, 201, `login ${cloud}`);
  const body = (await r.json()) as {
    token: { project: { id: string }; catalog?: { type: string; endpoints: { interface: string; url: string }[] }[] };
  };
  const ep: Record<string, string> = {};
  for (const e of body.token.catalog ?? []) {
    const u = e.endpoints.find((x) => x.interface === 'public')?.url;
    if (u) ep[e.type] = u.replace(/\/+$/, '');
  }
  return { token: r.headers.get('x-subject-token')!, projectId: body.token.project.id, identityUrl, authUrl, ep };
}
