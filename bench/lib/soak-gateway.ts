/**
 * The gateway's part of the soak (bench/soak.ts): an `ocx gateway` child process on the same devcloud, and one step
 * of mixed gRPC calls — ListFlavors over the three clouds, ListServers (fan-out), ListNetworks, and keypair
 * create / list / delete on the home cloud (writes). An error is a failed call or a per-cloud failure in a list.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { type Client, ConnectError, createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { CloudService } from '@ocx/sdk/gen/ocx/cloud/v1/cloud_service_pb';

export interface SpawnedGateway {
  child: ChildProcess;
  grpcUrl: string;
  /** Everything the child wrote on stdout and stderr. */
  output: () => string;
}

export async function spawnGateway(cloudsYaml: string): Promise<SpawnedGateway> {
  const main = fileURLToPath(new URL('../../packages/cli/src/main.ts', import.meta.url));
  const child = spawn(
    process.execPath,
    [main, 'gateway', '--home-cloud', 'idp-admin', '--clouds-file', cloudsYaml, '--listen', '127.0.0.1:0'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stderr!.on('data', (c: Buffer) => {
    out += c.toString();
  });
  const grpcUrl = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /gRPC (http:\/\/[\d.]+:\d+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`gateway exited early (${code}): ${out}`)));
  });
  return { child, grpcUrl, output: () => out };
}

export interface GatewayWorkload {
  step(): Promise<void>;
  /** Delete what is left (outside the measurement). */
  cleanup(): Promise<void>;
}

/** What the workload reports through, shared with the proxy's half of the soak. */
export interface Recorder {
  count(op: string): void;
  latency(ms: number): void;
  error(sample: string): void;
  /** Searches an answer for issued tokens. */
  answer(text: string): void;
}

/** One OpenSSH ed25519 public key for every keypair created (Nova would otherwise generate RSA for each). */
function sshEd25519(): string {
  const x = Buffer.from(
    (generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }) as { x: string }).x,
    'base64url',
  );
  const str = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  return `ssh-ed25519 ${Buffer.concat([str(Buffer.from('ssh-ed25519')), str(x)]).toString('base64')} soak`;
}
const PUBLIC_KEY = sshEd25519();

const json = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? String(x) : x));

export function gatewayWorkload(grpcUrl: string, token: string, rec: Recorder): GatewayWorkload {
  const client: Client<typeof CloudService> = createClient(CloudService, createGrpcTransport({ baseUrl: grpcUrl }));
  const opts = () => ({ headers: { authorization: `Bearer ${token}` }, timeoutMs: 30_000 });
  const home = { location: { clouds: ['idp'] } };
  const keypairs: string[] = [];
  let seq = 0;

  async function once<T>(op: string, call: () => Promise<T>, failures?: (r: T) => unknown[]): Promise<T | undefined> {
    rec.count(op);
    const t0 = performance.now();
    try {
      const r = await call();
      rec.latency(performance.now() - t0);
      rec.answer(json(r));
      const f = failures?.(r) ?? [];
      if (f.length > 0) {
        rec.error(`${op}: per-cloud failures ${json(f).slice(0, 200)}`);
        return undefined;
      }
      return r;
    } catch (err) {
      rec.latency(performance.now() - t0);
      const e = ConnectError.from(err);
      rec.answer(e.message);
      rec.error(`${op}: ${e.message.slice(0, 200)}`);
      return undefined;
    }
  }

  return {
    async step() {
      const dice = Math.random();
      if (dice < 0.35)
        await once(
          'gw-flavors',
          () => client.listFlavors({}, opts()),
          (r) => r.failures,
        );
      else if (dice < 0.55)
        await once(
          'gw-servers',
          () => client.listServers({}, opts()),
          (r) => r.failures,
        );
      else if (dice < 0.65)
        await once(
          'gw-networks',
          () => client.listNetworks({}, opts()),
          (r) => r.failures,
        );
      else if (dice < 0.75)
        await once(
          'gw-keypairs',
          () => client.listKeypairs({ filter: home }, opts()),
          (r) => r.failures,
        );
      // At most 40 keypairs of ours at a time.
      else if ((dice < 0.9 && keypairs.length < 40) || keypairs.length === 0) {
        const name = `soak-${process.pid}-${seq++}`;
        const r = await once('gw-create', () =>
          client.createKeypair({ location: { cloud: 'idp' }, name, publicKey: PUBLIC_KEY }, opts()),
        );
        if (r?.keypair) keypairs.push(name);
      } else {
        const name = keypairs.shift()!;
        const r = await once('gw-delete', () =>
          client.deleteKeypair({ filter: { location: { clouds: ['idp'] }, nameOrId: name } }, opts()),
        );
        if (r && !r.deleted) rec.error(`gw-delete: ${name} not deleted`);
      }
    },
    async cleanup() {
      for (const name of keypairs.splice(0)) {
        await client
          .deleteKeypair({ filter: { location: { clouds: ['idp'] }, nameOrId: name } }, opts())
          .catch(() => undefined);
      }
    },
  };
}
