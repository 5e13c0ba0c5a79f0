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
