/**
 * bench:proxy section 3 (bench/proxy.ts): 1 GiB image downloads and uploads directly at the upstream and through a
 * proxy, alternating, with the proxy's RSS sampled during its transfers.
 */
import { Readable } from 'node:stream';
import { type Agent, request } from 'undici';

export const GiB = 1024 * 1024 * 1024;

/** `total` bytes (a multiple of 256 KiB) of the byte `fill`, as one 256 KiB buffer sent again and again. */
export function repeatedBody(total: number, fill: number): Readable {
  const chunk = Buffer.alloc(256 * 1024, fill);
  return Readable.from(
    (function* () {
      for (let sent = 0; sent < total; sent += chunk.length) yield chunk;
    })(),
  );
}

/** 1 GiB down then up at `fileUrl` (the image's /file): times and what arrived. */
async function moveGiB(
  agent: Agent,
  fileUrl: string,
  auth: Record<string, string>,
): Promise<{ downMs: number; upMs: number; got: number; status: number }> {
  let t0 = performance.now();
  const down = await request(fileUrl, { dispatcher: agent, headers: auth });
  let got = 0;
  for await (const c of down.body) got += (c as Buffer).length;
  const downMs = performance.now() - t0;
  t0 = performance.now();
  const up = await request(fileUrl, {
    dispatcher: agent,
    method: 'PUT',
    headers: { ...auth, 'content-type': 'application/octet-stream', 'content-length': String(GiB) },
    body: repeatedBody(GiB, 3),
  });
  await up.body.dump();
  return { downMs, upMs: performance.now() - t0, got, status: up.statusCode };
}

const mibs = (ms: number) => (GiB / 1048576 / ms) * 1000;

/** Streams per plane and direction: direct and proxy alternate, the medians are compared. */
const STREAM_ROUNDS = Number(process.env.STREAM_ROUNDS ?? 3);
const mid = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;

/**
 * 1 GiB down then up directly at the upstream and through the proxy, alternating, STREAM_ROUNDS times (so that the
 * load of a shared machine hits both alike), sampling the proxy's RSS every 50 ms during its transfers; prints the
 * median throughput ratio proxy/direct per direction (goal ≥ 0.8) and the RSS growth (goal < 50 MB).
 */
export async function gigabyte(
  agent: Agent,
  treeRssMb: (pid: number) => number,
  proxy: { url: string; pid: number },
  auth: Record<string, string>,
  plane: string,
  upstream: string,
  /** A bare relay in front of the same upstream, moved through in the same rounds (the node plane's yardstick). */
  reference?: string,
): Promise<{ down: number; up: number }> {
  console.log(`== 1 GiB image through the proxy, ${plane} (RSS of the proxy's processes together)`);
  const direct: { downMs: number; upMs: number }[] = [];
  const via: { downMs: number; upMs: number }[] = [];
  const bare: { downMs: number; upMs: number }[] = [];
  const rss0 = treeRssMb(proxy.pid);
  let peak = rss0;
  for (let r = 0; r < STREAM_ROUNDS; r++) {
    direct.push(await moveGiB(agent, `${upstream}/v2/images/big/file`, auth));
    const sampler = setInterval(() => {
      peak = Math.max(peak, treeRssMb(proxy.pid));
    }, 50);
    const v = await moveGiB(agent, `${proxy.url}/image/v2/images/big/file`, auth);
    clearInterval(sampler);
    if (v.got !== GiB || v.status !== 204) throw new Error(`through the proxy: got ${v.got} bytes, upload ${v.status}`);
    via.push(v);
    if (reference) bare.push(await moveGiB(agent, `${reference}/v2/images/big/file`, auth));
  }
  const d = { down: mid(direct.map((x) => x.downMs)), up: mid(direct.map((x) => x.upMs)) };
  const p = { down: mid(via.map((x) => x.downMs)), up: mid(via.map((x) => x.upMs)) };
  const ratio = { down: d.down / p.down, up: d.up / p.up };
  console.log(
    `median of ${STREAM_ROUNDS}: direct download ${mibs(d.down).toFixed(0)} MiB/s, upload ${mibs(d.up).toFixed(0)} MiB/s; ` +
      `proxy download ${mibs(p.down).toFixed(0)} MiB/s, upload ${mibs(p.up).toFixed(0)} MiB/s; ` +
      `proxy RSS ${rss0.toFixed(1)} MB → peak ${peak.toFixed(1)} MB (growth ${(peak - rss0).toFixed(1)} MB, goal < 50 MB)`,
  );
  console.log(
    `throughput proxy/direct (${plane}): download ${ratio.down.toFixed(2)}×, upload ${ratio.up.toFixed(2)}× (goal ≥ 0.8)`,
  );
  if (reference) {
    const b = { down: mid(bare.map((x) => x.downMs)), up: mid(bare.map((x) => x.upMs)) };
    console.log(
      `the bare node:http + undici relay (bench/reference-relay-http.ts) in the same rounds: download ` +
        `${(d.down / b.down).toFixed(2)}×, upload ${(d.up / b.up).toFixed(2)}× direct`,
    );
  }
  return ratio;
}
