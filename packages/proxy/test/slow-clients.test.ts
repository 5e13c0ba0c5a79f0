/**
 * Slow clients and floods (issue 16): slowloris heads, idle connections and a connection flood against the proxy's
 * node:http listener are bounded (headersTimeoutMs, maxConnections) and do not starve a client that behaves.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { startWorld, type World } from './helpers.ts';

const HEADERS_TIMEOUT_MS = 1_500;
const MAX_CONNECTIONS = 120;
let w: World;
let port: number;

before(async () => {
  w = await startWorld({ headersTimeoutMs: HEADERS_TIMEOUT_MS, maxConnections: MAX_CONNECTIONS });
  port = Number(new URL(w.proxy.url).port);
});
after(async () => {
  await w?.stop();
});

interface Conn {
  socket: Socket;
  opened: number;
  closedAfterMs: Promise<number>;
  received: () => string;
}

function open(): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    const opened = Date.now();
    socket.on('data', (c: Buffer) => {
      data += c.toString('latin1');
    });
    socket.on('error', () => undefined);
    const closedAfterMs = new Promise<number>((r) => socket.once('close', () => r(Date.now() - opened)));
    socket.once('connect', () => resolve({ socket, opened, closedAfterMs, received: () => data }));
    socket.once('error', reject);
  });
}

async function goodRequest(): Promise<number> {
  const t0 = Date.now();
  const r = await w.call('/compute/v2.1/flavors', { signal: AbortSignal.timeout(10_000) });
  assert.equal(r.status, 200);
  await r.arrayBuffer();
  return Date.now() - t0;
}

test('slowloris heads and idle connections are closed at the head deadline; a good client is served meanwhile', async () => {
  const idle: Conn[] = [];
  for (let i = 0; i < 40; i++) idle.push(await open());
  const slow: Conn[] = [];
  for (let i = 0; i < 20; i++) {
    const c = await open();
    c.socket.write('GET /compute/v2.1/flavors HTTP/1.1\r\nHost: x\r\n');
    slow.push(c);
  }
  // Drip one header line every 300 ms: the head never completes.
  let n = 0;
  const drip = setInterval(() => {
    for (const c of slow) if (!c.socket.destroyed) c.socket.write(`x-drip-${n}: ${n}\r\n`);
    n++;
  }, 300);
  try {
    const times: number[] = [];
    for (let i = 0; i < 10; i++) times.push(await goodRequest());
    const closed = await Promise.all([...idle, ...slow].map((c) => c.closedAfterMs));
    const slowest = Math.max(...closed);
    // headersTimeout plus the 1 s checking tick plus a loaded machine's slack.
    assert.ok(slowest < HEADERS_TIMEOUT_MS + 4_000, `a connection lived ${slowest} ms`);
    for (const c of slow) {
      assert.match(c.received(), /^HTTP\/1\.1 408 /, 'a slow head is answered 408');
      assert.doesNotMatch(c.received(), /\n\s+at /, 'no stack trace');
    }
    assert.ok(Math.max(...times) < 3_000, `good requests took ${times.join(', ')} ms`);
    console.log(
      `# 60 hostile connections closed after ≤ ${slowest} ms; 10 good requests meanwhile, slowest ${Math.max(...times)} ms`,
    );
  } finally {
    clearInterval(drip);
    for (const c of [...idle, ...slow]) c.socket.destroy();
  }
});

test('a connection flood beyond maxConnections is shed at once and the proxy serves again when it ends', async () => {
  const conns: Conn[] = [];
  for (let i = 0; i < MAX_CONNECTIONS + 60; i++) conns.push(await open());
  // Those beyond the limit are closed by the server without an answer, well before the head deadline.
  const shed = await Promise.all(
    conns.map((c) => Promise.race([c.closedAfterMs, new Promise<number>((r) => setTimeout(() => r(-1), 800))])),
  );
  const shedCount = shed.filter((t) => t >= 0).length;
  assert.ok(shedCount >= 55, `only ${shedCount} of ${conns.length} connections were shed`);
  for (const c of conns) c.socket.destroy();
  await new Promise((r) => setTimeout(r, 200));
  const t = await goodRequest();
  console.log(`# ${conns.length} connections opened, ${shedCount} shed at once; a good request after: ${t} ms`);
});
