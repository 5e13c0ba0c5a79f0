/**
 * Test helpers for devcloud service plugins:
 *
 *   const cloud = await startTestCloud({ services: [novaModule] });
 *   after(() => cloud.close());
 *   const token = await getToken(cloud, 'demo');           // project-scoped to 'demo'
 *   const res = await fetch(`${cloud.baseUrl}/compute/v2.1/servers`, { headers: { 'X-Auth-Token': token } });
 */
import { type Cloud, type CreateCloudOptions, createCloud } from '../src/cloud.ts';
import type { ServiceModule } from '../src/context.ts';

export type { Cloud };

export interface TestCloudOptions extends Partial<Omit<CreateCloudOptions, 'services'>> {
  services?: ServiceModule[];
}

/** One cloud on 127.0.0.1:0 with Keystone and the given services; transitions default to 20 ms. */
export function startTestCloud(opts: TestCloudOptions = {}): Promise<Cloud> {
  return createCloud({ name: 'test', transitionMs: 20, logLevel: 'silent', ...opts, services: opts.services ?? [] });
}

export const PASSWORDS: Record<string, string> = { admin: 'admin-secret', demo: 'demo-secret' };

export interface TokenResult {
  token: string;
  body: { token: Record<string, unknown> & { project?: { id: string; name: string } } };
}

/** Password-authenticate `user` scoped to `project` (default: the project named like the user). */
export async function issueToken(
  cloud: Cloud,
  user = 'demo',
  project: string | null = user,
  password?: string,
): Promise<TokenResult> {
  const auth: Record<string, unknown> = {
    identity: {
      methods: ['password'],
      password: { user: { name: user, domain: { id: 'default' }, password: password ?? PASSWORDS[user] ?? '' } },
    },
  };
  if (project !== null) auth.scope = { project: { name: project, domain: { id: 'default' } } };
  const res = await fetch(`${cloud.authUrl}/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ auth }),
    signal: AbortSignal.timeout(5000),
  });
  if (res.status !== 201) throw new Error(`token for ${user}/${project}: HTTP ${res.status} ${await res.text()}`);
  const token = res.headers.get('x-subject-token');
  if (!token) throw new Error('no X-Subject-Token');
  return { token, body: (await res.json()) as TokenResult['body'] };
}

/** Just the token string. */
export async function getToken(cloud: Cloud, user = 'demo', project: string | null = user): Promise<string> {
  return (await issueToken(cloud, user, project)).token;
}

/** The id of a project by name (admin and demo exist on every cloud). */
export function projectId(cloud: Cloud, name: string): string {
  const p = cloud.keystone.projects.filter((x) => x.name === name)[0];
  if (!p) throw new Error(`no project ${name}`);
  return p.id;
}

/** fetch against the cloud with a token and a 5 s deadline; JSON body when `json` is given. */
export function call(
  cloud: Cloud,
  method: string,
  path: string,
  token?: string,
  json?: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${cloud.baseUrl}${path}`, {
    method,
    headers: {
      ...(token ? { 'x-auth-token': token } : {}),
      ...(json !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
    signal: AbortSignal.timeout(5000),
  });
}

/** A parsed JSON body whose shape the test asserts field by field. */
// biome-ignore lint/suspicious/noExplicitAny: JSON from the wire, checked by the assertions that read it
export type Json = any;

/**
 * The whole K2K exchange over HTTP, as keystoneauth does it: password login at the IdP (project demo), ECP
 * assertion for `sp`, POST to the SP's sp_url (no redirects), cookie → auth_url (unscoped), rescope to `project`.
 * Returns the SP's project-scoped token.
 */
export async function k2kToken(idpAuthUrl: string, sp: string, project = 'demo', user = 'demo'): Promise<string> {
  const t = AbortSignal.timeout(10_000);
  const login = await fetch(`${idpAuthUrl}/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: user, domain: { id: 'default' }, password: PASSWORDS[user] ?? '' } },
        },
        scope: { project: { name: user, domain: { id: 'default' } } },
      },
    }),
    signal: t,
  });
  if (login.status !== 201) throw new Error(`IdP login: HTTP ${login.status}`);
  const idpToken = login.headers.get('x-subject-token') as string;
  const ecp = await fetch(`${idpAuthUrl}/auth/OS-FEDERATION/saml2/ecp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-auth-token': idpToken },
    body: JSON.stringify({
      auth: { identity: { methods: ['token'], token: { id: idpToken } }, scope: { service_provider: { id: sp } } },
    }),
    signal: t,
  });
  if (ecp.status !== 200) throw new Error(`ECP: HTTP ${ecp.status} ${await ecp.text()}`);
  const spUrl = ecp.headers.get('x-sp-url') as string;
  const authUrl = ecp.headers.get('x-auth-url') as string;
  const posted = await fetch(spUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.paos+xml' },
    body: await ecp.text(),
    redirect: 'manual',
    signal: t,
  });
  if (posted.status !== 303) throw new Error(`SP assertion consumer: HTTP ${posted.status} ${await posted.text()}`);
  const cookie = (posted.headers.get('set-cookie') ?? '').split(';')[0] as string;
  const fed = await fetch(authUrl, { headers: { cookie }, signal: t });
  if (fed.status !== 201) throw new Error(`SP federated auth: HTTP ${fed.status} ${await fed.text()}`);
  const unscoped = fed.headers.get('x-subject-token') as string;
  const spBase = authUrl.slice(0, authUrl.indexOf('/OS-FEDERATION/'));
  const scoped = await fetch(`${spBase}/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: { methods: ['token'], token: { id: unscoped } },
        scope: { project: { name: project, domain: { id: 'default' } } },
      },
    }),
    signal: t,
  });
  if (scoped.status !== 201) throw new Error(`SP rescope: HTTP ${scoped.status} ${await scoped.text()}`);
  return scoped.headers.get('x-subject-token') as string;
}
