// Test data the contract suite creates for itself on either target (and removes afterwards).
import { randomBytes } from 'node:crypto';
import { NetworkClient, type Session } from '@ocx/sdk';

/** A demo-project network + subnet to boot servers on (real clouds start with none we may rely on). */
export async function withNetwork(session: Session, name: string) {
  const net = new NetworkClient(session.client('network'));
  const network = await net.createNetwork({ name });
  const subnet = await net.createSubnet({
    network_id: network.id,
    name: `${name}-subnet`,
    cidr: `10.${(randomBytes(1)[0]! % 200) + 20}.${randomBytes(1)[0]!}.0/24`,
    ip_version: 4,
  });
  return {
    network,
    subnet,
    async remove() {
      // Ports of deleted servers may linger for a moment on real Neutron; a port that never goes away is a bug
      // (a leaked port), so after the retries the last error is thrown, not swallowed.
      let last: unknown;
      for (let i = 0; i < 30; i++) {
        try {
          await net.deleteNetwork(network.id);
          return;
        } catch (err) {
          last = err;
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
      throw last;
    },
  };
}

/** Deterministic pseudo-random bytes (so a checksum can be computed on both sides without keeping the data). */
export function* pseudoRandomChunks(total: number, chunk = 64 * 1024): Generator<Buffer> {
  let seed = 0x12345678;
  let left = total;
  while (left > 0) {
    const n = Math.min(chunk, left);
    const buf = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      buf[i] = seed >>> 24;
    }
    left -= n;
    yield buf;
  }
}

/** An active image to boot from: a tiny raw image this run uploads (real clouds may have none). */
export async function withBootImage(cloud: import('@ocx/sdk').Cloud, name: string, timeoutMs: number) {
  const data = Buffer.from(`ocx boot image ${name}\n`.repeat(512));
  const image = await cloud.createImage(name, { data, diskFormat: 'raw', wait: true, timeoutMs });
  return {
    image,
    async remove() {
      await cloud.deleteImage(image.id).catch(() => {});
    },
  };
}
