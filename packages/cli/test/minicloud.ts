/**
 * A small loopback OpenStack for CLI tests: Keystone v3 token issue with a catalog, Nova (servers, flavors),
 * Glance v2 (images), Neutron v2.0 (networks) and Cinder v3 (volumes), with version documents where clients
 * discover them. Data is fixed per cloud; `failWith` makes every service call answer that status.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CliContext } from '../src/context.ts';
import { main } from '../src/main.ts';

export interface MiniCloudData {
  servers?: Array<Record<string, unknown>>;
  flavors?: Array<Record<string, unknown>>;
  images?: Array<Record<string, unknown>>;
  networks?: Array<Record<string, unknown>>;
  volumes?: Array<Record<string, unknown>>;
}

export interface MiniCloud {
  name: string;
  url: string;
  token: string;
  projectId: string;
  /** Requests seen, as `METHOD path` (for asserting what the CLI asked). */
  requests: string[];
  failWith?: number;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

export async function startMiniCloud(
  name: string,
  data: MiniCloudData,
  opts: { password?: string } = {},
): Promise<MiniCloud> {
  const projectId = `project-${name}`;
  const token = `token-${name}-${Math.random().toString(36).slice(2)}`;
  const password = opts.password ?? 'secret';
  let base = '';
  const cloud = { name, token, projectId, requests: [] as string[] } as MiniCloud;
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', base);
      const path = url.pathname;
      cloud.requests.push(`${req.method} ${path}${url.search}`);
      if (req.method === 'POST' && path === '/identity/v3/auth/tokens') {
        const body = JSON.parse(Buffer.concat(chunks).toString() || '{}');
        if (body?.auth?.identity?.password?.user?.password !== password) {
          send(res, 401, {
            error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' },
          });
          return;
        }
        const ep = (type: string, url: string) => ({
          type,
          name: type,
          id: type,
          endpoints: [{ id: `${type}-pub`, interface: 'public', region: 'RegionOne', region_id: 'RegionOne', url }],
        });
        send(
          res,
          201,
          {
            token: {
              methods: ['password'],
              expires_at: '2099-01-02T03:04:05.000000Z',
              issued_at: new Date().toISOString(),
              user: { id: `user-${name}`, name: 'demo', domain: { id: 'default', name: 'Default' } },
              project: { id: projectId, name: 'demo', domain: { id: 'default', name: 'Default' } },
              roles: [{ id: 'r', name: 'member' }],
              catalog: [
                ep('identity', `${base}/identity`),
                ep('compute', `${base}/compute/v2.1`),
                ep('image', `${base}/image`),
                ep('network', `${base}/network`),
                ep('volumev3', `${base}/volume/v3/${projectId}`),
              ],
            },
          },
          { 'x-subject-token': cloud.token },
        );
        return;
      }
      // cloud.token may be changed by a test: the old token is then revoked (401), as after a Keystone restart.
      if (req.headers['x-auth-token'] !== cloud.token) {
        send(res, 401, { error: { code: 401, message: 'The request you have made requires authentication.' } });
        return;
      }
      const versionDoc = (id: string, href: string, extra: Record<string, string> = {}) => ({
        versions: [{ id, status: 'CURRENT', links: [{ rel: 'self', href }], ...extra }],
      });
      if (path === '/compute/v2.1/' || path === '/compute/v2.1') {
        send(res, 200, {
          version: {
            id: 'v2.1',
            status: 'CURRENT',
            version: '2.90',
            min_version: '2.1',
            links: [{ rel: 'self', href: `${base}/compute/v2.1/` }],
          },
        });
        return;
      }
      if (path === '/image/' || path === '/image') return send(res, 300, versionDoc('v2.15', `${base}/image/v2/`));
      if (path === '/network/' || path === '/network')
        return send(res, 200, versionDoc('v2.0', `${base}/network/v2.0/`));
      if (path === '/volume/v3/' || path === '/volume/v3' || path === '/volume/') {
        send(res, 200, {
          version: {
            id: 'v3.0',
            status: 'CURRENT',
            version: '3.70',
            min_version: '3.0',
            links: [{ rel: 'self', href: `${base}/volume/v3/` }],
          },
        });
        return;
      }
      if (cloud.failWith) {
        send(
          res,
          cloud.failWith,
          { computeFault: { code: cloud.failWith, message: `${name} is broken` } },
          { 'x-openstack-request-id': `req-${name}-1` },
        );
        return;
      }
      if (path === '/compute/v2.1/servers/detail' || path === '/compute/v2.1/servers')
        return send(res, 200, { servers: data.servers ?? [] });
      if (path === '/compute/v2.1/flavors/detail') return send(res, 200, { flavors: data.flavors ?? [] });
      if (path === '/image/v2/images')
        return send(res, 200, { images: data.images ?? [], first: '/v2/images', schema: '/v2/schemas/images' });
      if (path === '/network/v2.0/networks') return send(res, 200, { networks: data.networks ?? [] });
      if (path === `/volume/v3/${projectId}/volumes/detail`) return send(res, 200, { volumes: data.volumes ?? [] });
      send(res, 404, { itemNotFound: { code: 404, message: `no ${req.method} ${path}` } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  cloud.url = base;
  cloud.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return cloud;
}

/** A clouds.yaml naming each mini cloud (password auth against its /identity/v3). */
export function cloudsYaml(
  clouds: Array<{ name: string; url: string; password?: string; regions?: string[] }>,
): string {
  let out = 'clouds:\n';
  for (const c of clouds) {
    out += `  ${c.name}:\n    auth:\n      auth_url: ${c.url}/identity/v3\n      username: demo\n      password: ${c.password ?? 'secret'}\n      project_name: demo\n      user_domain_name: Default\n      project_domain_name: Default\n`;
    out += c.regions ? `    regions: [${c.regions.join(', ')}]\n` : '    region_name: RegionOne\n';
  }
  return out;
}

export interface OcxRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Variables of the test runner's environment that must not reach ocx: its clouds and its token cache. */
function hermetic(name: string): boolean {
  return !name.startsWith('OS_') && name !== 'XDG_CACHE_HOME' && name !== 'OCX_TOKEN_CACHE';
}

const MAIN = new URL('../src/main.ts', import.meta.url).pathname;

/** Run `ocx args...` in this process (main() with captured stdout/stderr) with only the given OS_* environment. */
export async function runOcx(
  args: string[],
  env: Record<string, string>,
  opts: { errIsTTY?: boolean } = {},
): Promise<OcxRun> {
  const clean: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(process.env)) if (hermetic(k)) clean[k] = v;
  let stdout = '';
  let stderr = '';
  const ctx: CliContext = {
    env: { ...clean, ...env },
    cwd: env.HOME ?? process.cwd(),
    out: (t) => {
      stdout += t;
    },
    err: (t) => {
      stderr += t;
    },
    exitCode: 0,
    errIsTTY: opts.errIsTTY === true,
  };
  const code = await main(args, ctx);
  return { code, stdout, stderr };
}

/** Spawn `ocx args...` as a process (this Node running `script`) with only the given OS_* environment. */
export function spawnOcx(args: string[], env: Record<string, string>, script: string = MAIN): Promise<OcxRun> {
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && hermetic(k)) clean[k] = v;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], {
      env: { ...clean, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A temp dir holding clouds.yaml; returns the env that points ocx at it and a cleanup. */
export function writeClouds(yaml: string): { env: Record<string, string>; dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'ocx-cli-'));
  const file = join(dir, 'clouds.yaml');
  writeFileSync(file, yaml);
  return {
    env: { OS_CLIENT_CONFIG_FILE: file, HOME: dir },
    dir,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
