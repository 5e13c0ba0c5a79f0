/**
 * `network create-private NAME` (issue 15): on each chosen cloud a network, a subnet and a router named NAME, the
 * router's gateway on the cloud's external network and the subnet attached. The subnet's /24 (10.x.y.0/24) is chosen
 * so that it overlaps neither the cloud's existing subnets nor the NAME subnets of the other chosen clouds, so the
 * clouds can later be joined. Idempotent: what already exists under NAME is reused and reported as such.
 */
import { type Connection, ErrorCode, type FanOutContext, type Network, OcxError, type Subnet } from '@ocx/sdk';
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import type { Row } from '../output.ts';
import { runEach, withOutputOptions } from '../run.ts';

/** What one cloud tells the others before any of them picks a range. */
interface CloudSubnets {
  /** Every IPv4 range the cloud's project can see. */
  used: string[];
  /** The range of its existing NAME subnet, when there is one. */
  mine: string | undefined;
}

/** [first, last] address of an IPv4 CIDR, or undefined for anything else (IPv6). */
function ipv4Range(cidr: string): [number, number] | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr);
  if (!m) return undefined;
  const bits = Number(m[5]);
  const addr = ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0;
  const size = 2 ** (32 - bits);
  const first = addr - (addr % size);
  return [first, first + size - 1];
}

export function overlaps(a: string, b: string): boolean {
  const ra = ipv4Range(a);
  const rb = ipv4Range(b);
  return ra !== undefined && rb !== undefined && ra[0] <= rb[1] && rb[0] <= ra[1];
}

/**
 * The range each cloud's NAME subnet gets: its existing one, else the first 10.x.y.0/24 (in order) that overlaps
 * neither that cloud's subnets nor any other cloud's NAME subnet, already kept or picked (clouds taken by name).
 * Every cloud computes the same answer from the same inputs.
 */
export function pickRanges(clouds: Map<string, CloudSubnets>): Map<string, string> {
  const picked = new Map<string, string>();
  for (const [name, c] of clouds) if (c.mine) picked.set(name, c.mine);
  for (const name of [...clouds.keys()].sort()) {
    const c = clouds.get(name)!;
    if (c.mine) continue;
    const taken = [...c.used, ...[...picked.entries()].filter(([n]) => n !== name).map(([, r]) => r)];
    let found: string | undefined;
    for (let i = 0; i < 65536 && !found; i++) {
      const candidate = `10.${i >> 8}.${i & 255}.0/24`;
      if (!taken.some((t) => overlaps(candidate, t))) found = candidate;
    }
    if (!found) throw new OcxError(ErrorCode.CONFLICT, 'no free 10.x.y.0/24 range left');
    picked.set(name, found);
  }
  return picked;
}

/** A meeting point for the clouds of one run: each publishes its subnets, then all wait for every cloud's. */
class Barrier {
  private readonly slots = new Map<
    string,
    { promise: Promise<CloudSubnets | null>; resolve: (v: CloudSubnets | null) => void }
  >();
  constructor(names: string[]) {
    for (const n of names) {
      let resolve!: (v: CloudSubnets | null) => void;
      const promise = new Promise<CloudSubnets | null>((r) => {
        resolve = r;
      });
      this.slots.set(n, { promise, resolve });
    }
  }
  publish(name: string, value: CloudSubnets | null): void {
    this.slots.get(name)?.resolve(value);
  }
  async all(signal: AbortSignal): Promise<Map<string, CloudSubnets>> {
    const aborted = new Promise<never>((_, reject) => {
      const fail = () => reject(new OcxError(ErrorCode.TIMEOUT, 'gave up waiting for the other clouds’ subnets'));
      if (signal.aborted) fail();
      else signal.addEventListener('abort', fail, { once: true });
    });
    const entries = await Promise.race([
      Promise.all([...this.slots].map(async ([n, s]) => [n, await s.promise] as const)),
      aborted,
    ]);
    return new Map(entries.filter((e): e is readonly [string, CloudSubnets] => e[1] !== null));
  }
}

async function createPrivate(
  conn: Connection,
  cloudName: string,
  name: string,
  barrier: Barrier,
  fctx: FanOutContext,
): Promise<Row> {
  const signal = fctx.signal;
  const cloud = conn.cloudLayer;
  let published = false;
  let ranges: Map<string, string>;
  let existingNet: Network | undefined;
  let existingSub: Subnet | undefined;
  try {
    existingNet = onlyOne(await cloud.listNetworks({ name }, { signal }), name, 'network');
    const subnets = await cloud.searchSubnets(undefined, undefined, { signal });
    const netId = existingNet?.id;
    existingSub = netId ? subnets.find((s) => s.name === name && s.network_id === netId) : undefined;
    barrier.publish(cloudName, { used: subnets.map((s) => s.cidr), mine: existingSub?.cidr });
    published = true;
    ranges = pickRanges(await barrier.all(signal));
  } finally {
    if (!published) barrier.publish(cloudName, null);
  }
  const cidr = existingSub?.cidr ?? ranges.get(cloudName)!;
  const made: string[] = [];

  let network: { id: string } | undefined = existingNet;
  if (!network) {
    made.push('network');
    network = await cloud.createNetwork(name, { signal });
  }
  let subnet: { id: string; cidr: string } | undefined = existingSub;
  if (!subnet) {
    made.push('subnet');
    subnet = await cloud.createSubnet({ name, network: { id: network.id }, cidr, ipVersion: 4, signal });
  }

  const existingRouter = onlyOne(await cloud.searchRouters(undefined, { name }, { signal }), name, 'router');
  let router: { id: string } | undefined = existingRouter;
  if (!router) {
    const [external] = await cloud.listNetworks({ is_router_external: true }, { signal });
    if (!external) throw new OcxError(ErrorCode.NOT_FOUND, 'no external network to use as the router’s gateway');
    made.push('router');
    router = await cloud.createRouter(name, { externalNetwork: { id: external.id }, signal });
  }
  if (!existingRouter?.interface_subnets.includes(subnet.id)) {
    made.push('interface');
    await cloud.addRouterSubnet({ id: router.id }, { id: subnet.id }, { signal });
  }
  return {
    Network: network.id,
    Subnet: subnet.id,
    CIDR: subnet.cidr,
    Router: router.id,
    Result: made.length === 0 ? 'exists' : `created ${made.join(', ')}`,
  };
}

/** The one of `found` (the records named `name`); CONFLICT when several share it (the user must clean up first). */
function onlyOne<T>(found: T[], name: string, kind: string): T | undefined {
  if (found.length > 1) throw new OcxError(ErrorCode.CONFLICT, `more than one ${kind} is named "${name}"`);
  return found[0];
}

export function registerCreatePrivate(network: Command, ctx: CliContext): void {
  withOutputOptions(
    network
      .command('create-private')
      .description(
        'Create a network, a non-overlapping 10.x.y.0/24 subnet and a router to the external network on each cloud',
      )
      .argument('<name>'),
  ).action(async (name: string, _opts: unknown, cmd: Command) => {
    let barrier = new Barrier([]);
    let refusal: OcxError | undefined;
    await runEach(
      cmd,
      ctx,
      async (conn, fctx) => {
        if (refusal) throw refusal;
        return createPrivate(conn, conn.name, name, barrier, fctx);
      },
      {
        onTargets: (names) => {
          barrier = new Barrier(names);
          // Every cloud waits for all the others' subnets: they must all run at once.
          const limit = Number((cmd.optsWithGlobals() as { concurrency?: string }).concurrency ?? 16);
          if (limit < names.length)
            refusal = new OcxError(
              ErrorCode.BAD_REQUEST,
              `create-private talks to all ${names.length} clouds at once: --concurrency must be at least ${names.length}`,
            );
        },
      },
    );
  });
}
