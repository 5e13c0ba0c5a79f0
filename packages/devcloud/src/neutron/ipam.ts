/** Address arithmetic for Neutron's IPAM: IPv4 and IPv6 as bigints, CIDR parsing, pools, first-free allocation. */
import { isIPv4, isIPv6 } from 'node:net';

export interface Cidr {
  version: 4 | 6;
  network: bigint;
  prefix: number;
  /** Total addresses in the block. */
  size: bigint;
}

export function parseIp(ip: string): { version: 4 | 6; value: bigint } | undefined {
  if (isIPv4(ip)) {
    const v = ip.split('.').reduce((acc, o) => (acc << 8n) + BigInt(Number(o)), 0n);
    return { version: 4, value: v };
  }
  if (isIPv6(ip)) {
    let s = ip;
    // Embedded IPv4 tail (::ffff:1.2.3.4).
    const m = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(s);
    if (m) {
      const v4 = parseIp(m[2]!)!.value;
      s = `${m[1]}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
    }
    const [head = '', tail] = s.split('::');
    const h = head ? head.split(':') : [];
    const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
    const fill = tail === undefined ? 0 : 8 - h.length - t.length;
    const groups = [...h, ...Array(fill).fill('0'), ...t];
    const v = groups.reduce((acc, g) => (acc << 16n) + BigInt(Number.parseInt(g, 16)), 0n);
    return { version: 6, value: v };
  }
  return undefined;
}

export function formatIp(version: 4 | 6, value: bigint): string {
  if (version === 4) {
    return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 255n)).join('.');
  }
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  // Compress the longest run of zero groups (RFC 5952).
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i > 1) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** Parse `a.b.c.d/n`; `strict` rejects host bits like Neutron does. */
export function parseCidr(cidr: string): Cidr | { error: string } {
  const [ip, p] = cidr.split('/');
  const parsed = ip ? parseIp(ip) : undefined;
  if (!parsed || p === undefined || !/^\d+$/.test(p)) return { error: `'${cidr}' is not a valid IP subnet` };
  const bits = parsed.version === 4 ? 32 : 128;
  const prefix = Number(p);
  if (prefix > bits) return { error: `'${cidr}' is not a valid IP subnet` };
  const size = 1n << BigInt(bits - prefix);
  const network = parsed.value & ~(size - 1n) & ((1n << BigInt(bits)) - 1n);
  if (network !== parsed.value) {
    return {
      error: `'${cidr}' isn't a recommended CIDR, it should be specified as '${formatIp(parsed.version, network)}/${prefix}'`,
    };
  }
  return { version: parsed.version, network, prefix, size };
}

export function cidrString(c: Cidr): string {
  return `${formatIp(c.version, c.network)}/${c.prefix}`;
}

export function inCidr(c: Cidr, value: bigint): boolean {
  return value >= c.network && value < c.network + c.size;
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  if (a.version !== b.version) return false;
  return a.network < b.network + b.size && b.network < a.network + a.size;
}

/** Neutron's defaults: gateway = first host; pool = the rest of the usable range (v4 drops broadcast). */
export function defaultGateway(c: Cidr): bigint | undefined {
  if (c.size < 2n) return undefined;
  return c.network + 1n;
}

export function defaultPools(c: Cidr, gateway: bigint | undefined): { start: bigint; end: bigint }[] {
  const first = c.network + 1n;
  const last = c.version === 4 ? c.network + c.size - 2n : c.network + c.size - 1n;
  if (last < first) return [];
  if (gateway === undefined || gateway < first || gateway > last) return [{ start: first, end: last }];
  const pools: { start: bigint; end: bigint }[] = [];
  if (gateway > first) pools.push({ start: first, end: gateway - 1n });
  if (gateway < last) pools.push({ start: gateway + 1n, end: last });
  return pools;
}

/** Lowest address of the pools not in `used`, or undefined when the pools are exhausted. */
export function firstFree(pools: { start: bigint; end: bigint }[], used: Set<bigint>): bigint | undefined {
  for (const p of pools) {
    // Bounded scan: pools are walked in order; `used` is small compared to real pools in practice.
    for (let v = p.start; v <= p.end; v++) {
      if (!used.has(v)) return v;
      if (v - p.start > 1_000_000n) break;
    }
  }
  return undefined;
}
