/**
 * What a client sees of the proxy's listener (node:http, llhttp) on raw sockets, where fetch would hide the wire:
 * pipelining, framing, request smuggling refused (Content-Length with Transfer-Encoding, bare LF, missing or
 * doubled Host), oversized heads, HTTP/1.0, Connection: close, Expect: 100-continue and early answers, clients that
 * leave, and upstreams with quirks (chunked, close-delimited, hanging). Until issue 12 these ran against the
 * hand-written front end (src/front/, deleted with its unit tests of head parsing, body framing and the raw pool).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { SERVICES, type ServiceModule } from '@ocx/devcloud';
import { startWorld, type World, waitFor } from './helpers.ts';

const b = (s: string) => Buffer.from(s, 'latin1');

// ───────────────────────────── raw HTTP client ─────────────────────────────

interface RawResponse {
  version: string;
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** Bytes of the head as sent. */
  headText: string;
}

/** A client on one TCP connection that reads responses with its own (independent) parser. */
class RawClient {
  readonly socket: Socket;
  private buf = Buffer.alloc(0);
  closed = false;
  private waiter: (() => void) | undefined;
  readonly closedP: Promise<void>;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.waiter?.();
    });
    this.closedP = new Promise((resolve) => {
      const onEnd = () => {
        this.closed = true;
        this.waiter?.();
        resolve();
      };
      socket.on('end', onEnd);
      socket.on('close', onEnd);
    });
    socket.on('error', () => undefined);
  }

  static async open(url: string): Promise<RawClient> {
    const u = new URL(url);
    const s = connect({ host: u.hostname, port: Number(u.port) });
    await once(s, 'connect');
    return new RawClient(s);
  }

  /**
   * Resolves when the proxy has closed the connection; throws if it is still open after `timeoutMs` (well under
   * the proxy's 65 s idle timeout, so a connection left open fails the test instead of ending late).
   */
  async closedByProxy(timeoutMs = 10_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.closedP,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('the proxy kept the connection open')), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** The next response (interim responses too) to a request with `method`. */
  async read(method = 'GET', timeoutMs = 15_000): Promise<RawResponse> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const r = this.tryParse(method);
      if (r) return r;
      if (this.closed) throw new Error(`connection closed with ${this.buf.length} unparsed bytes`);
      if (Date.now() > until) throw new Error('no complete response in time');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 200);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.waiter = undefined;
    }
  }

  /** Bytes not yet parsed as responses. */
  get pending(): Buffer {
    return this.buf;
  }

  close(): void {
    this.socket.destroy();
  }

  private tryParse(method: string): RawResponse | undefined {
    const buf = this.buf;
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0) return undefined;
    const headText = buf.toString('latin1', 0, end + 4);
    const lines = headText.slice(0, -4).split('\r\n');
    const m = /^(HTTP\/1\.[01]) (\d{3})(?: .*)?$/.exec(lines[0]!);
    if (!m) throw new Error(`bad status line ${JSON.stringify(lines[0])}`);
    const status = Number(m[2]);
    const headers: Record<string, string> = {};
    for (const l of lines.slice(1)) {
      const c = l.indexOf(':');
      const k = l.slice(0, c).toLowerCase();
      const v = l.slice(c + 1).trim();
      headers[k] = headers[k] === undefined ? v : `${headers[k]}, ${v}`;
    }
    const start = end + 4;
    const done = (body: Buffer, used: number): RawResponse => {
      this.buf = buf.subarray(used);
      return { version: m[1]!, status, headers, body, headText };
    };
    if (status < 200 || method === 'HEAD' || status === 204 || status === 304) return done(Buffer.alloc(0), start);
    if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
      const parts: Buffer[] = [];
      let i = start;
      for (;;) {
        const le = buf.indexOf('\r\n', i);
        if (le < 0) return undefined;
        const size = Number.parseInt(buf.toString('latin1', i, le).split(';')[0]!, 16);
        if (size === 0) {
          const te = buf.indexOf('\r\n\r\n', le);
          if (te < 0 && buf.indexOf('\r\n', le + 2) !== le + 2) return undefined;
          const used = buf.indexOf('\r\n', le + 2) === le + 2 ? le + 4 : te + 4;
          return done(Buffer.concat(parts), used);
        }
        if (buf.length < le + 2 + size + 2) return undefined;
        parts.push(buf.subarray(le + 2, le + 2 + size));
        i = le + 2 + size + 2;
      }
    }
    if (headers['content-length'] !== undefined) {
      const n = Number(headers['content-length']);
      if (buf.length < start + n) return undefined;
      return done(buf.subarray(start, start + n), start + n);
    }
    if (!this.closed) return undefined;
    return done(buf.subarray(start), buf.length);
  }
}

const md5 = (d: Buffer) => createHash('md5').update(d).digest('hex');

// ───────────────────────────── end to end ─────────────────────────────

describe('the listener, end to end on raw sockets', () => {
  let w: World;
  let account: string;
  let sp1Store: string;
  const host = () => new URL(w.proxy.url).host;
  const big = Buffer.alloc(8 * 1024 * 1024);
  for (let i = 0; i < big.length; i += 4) big.writeUInt32LE(Math.imul(i, 2654435761) >>> 0, i);

  const sp1Object = async (path: string) => {
    const d = w.direct.sp1!;
    const r = await fetch(`${sp1Store}${path}`, {
      headers: { 'x-auth-token': d.token },
      signal: AbortSignal.timeout(10_000),
    });
    return { status: r.status, body: Buffer.from(await r.arrayBuffer()), etag: r.headers.get('etag') };
  };
  const get = (path: string, extra = '') =>
    `GET ${path} HTTP/1.1\r\nHost: ${host()}\r\nX-Auth-Token: ${w.token}\r\n${extra}\r\n`;

  before(async () => {
    w = await startWorld();
    account = `/object-store/v1/AUTH_${w.projectId}`;
    sp1Store = w.direct.sp1!.endpoints['object-store']!;
    const made = await w.call(`${account}/front`, { method: 'PUT', headers: { 'mm-service-provider': 'sp1' } });
    assert.ok(made.status === 201 || made.status === 202, `container create ${made.status}`);
    for (const [name, data] of [
      ['a.txt', Buffer.from('AAAA first object')],
      ['b.txt', Buffer.from('BBBB the second one')],
      ['big.bin', big],
    ] as const) {
      const r = await w.call(`${account}/front/${name}`, { method: 'PUT', body: data });
      assert.equal(r.status, 201, `PUT ${name}`);
    }
  });
  after(async () => {
    await w?.stop();
  });

  test('two pipelined GETs on one connection are answered in order, and the connection stays open', async () => {
    const c = await RawClient.open(w.proxy.url);
    try {
      c.write(get(`${account}/front/b.txt`) + get(`${account}/front/a.txt`));
      const first = await c.read();
      const second = await c.read();
      assert.equal(first.status, 200);
      assert.equal(first.body.toString(), 'BBBB the second one');
      assert.equal(second.status, 200);
      assert.equal(second.body.toString(), 'AAAA first object');
      // A body-carrying request pipelined behind a GET, answered in order. (A client may not pipeline behind a
      // non-idempotent request and expect to see its effect, RFC 9112 §9.3.2: the GET of p.txt waits for the 201.)
      c.write(
        `${get(`${account}/front/a.txt`)}PUT ${account}/front/p.txt HTTP/1.1\r\nHost: ${host()}\r\nX-Auth-Token: ${w.token}\r\n` +
          `Content-Length: 9\r\n\r\npipelined`,
      );
      assert.equal((await c.read()).body.toString(), 'AAAA first object');
      assert.equal((await c.read('PUT')).status, 201);
      c.write(get(`${account}/front/p.txt`));
      const third = await c.read();
      assert.equal(third.status, 200);
      assert.equal(third.body.toString(), 'pipelined');
      assert.equal(c.closed, false);
    } finally {
      c.close();
    }
  });

  test('a malformed request line gets 400 and the connection is closed', async () => {
    const c = await RawClient.open(w.proxy.url);
    c.write('THIS IS NOT HTTP\r\n\r\n');
    const r = await c.read();
    assert.equal(r.status, 400);
    assert.match(r.headers.connection ?? '', /close/i);
    await c.closedByProxy();
    assert.equal(c.pending.length, 0);
  });

  test('Content-Length together with Transfer-Encoding gets 400 and a close (no smuggled request is served)', async () => {
    const c = await RawClient.open(w.proxy.url);
    const smuggled = get(`${account}/front/a.txt`);
    c.write(
      `POST ${account}/front/x HTTP/1.1\r\nHost: ${host()}\r\nX-Auth-Token: ${w.token}\r\n` +
        `Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`,
    );
    const r = await c.read('POST');
    assert.equal(r.status, 400);
    await c.closedByProxy();
    assert.equal(c.pending.length, 0, 'nothing answered after the 400');
  });

  test('a bare LF hiding a Transfer-Encoding in a request with a body: 400, closed, nothing behind it served', async () => {
    const c = await RawClient.open(w.proxy.url);
    c.write(
      `PUT ${account}/front/lf.txt HTTP/1.1\r\nHost: ${host()}\r\nX-Auth-Token: ${w.token}\r\nContent-Length: 3\r\n` +
        `X-A: a\nTransfer-Encoding: chunked\r\n\r\nabc${get(`${account}/front/a.txt`)}`,
    );
    const r = await c.read('PUT');
    assert.equal(r.status, 400);
    await c.closedByProxy();
    assert.equal(c.pending.length, 0, 'nothing answered after the 400');
    assert.equal((await sp1Object('/front/lf.txt')).status, 404);
  });

  test('an HTTP/1.1 request without Host, or with two, gets 400 and a close (RFC 9112 §3.2), on either path', async () => {
    const cases = {
      'GET, no Host': `GET ${account}/front/a.txt HTTP/1.1\r\nX-Auth-Token: ${w.token}\r\n\r\n`,
      'GET, two Hosts': `GET ${account}/front/a.txt HTTP/1.1\r\nHost: a\r\nHost: b\r\nX-Auth-Token: ${w.token}\r\n\r\n`,
      'PUT, no Host': `PUT ${account}/front/nohost.txt HTTP/1.1\r\nX-Auth-Token: ${w.token}\r\nContent-Length: 1\r\n\r\nx`,
    };
    const got: Record<string, number> = {};
    for (const [name, request] of Object.entries(cases)) {
      const c = await RawClient.open(w.proxy.url);
      try {
        c.write(request);
        got[name] = (await c.read(request.slice(0, 3))).status;
        if (got[name] === 400) await c.closedByProxy(); // (a wrongly served request leaves the connection open)
      } finally {
        c.close();
      }
    }
    assert.deepEqual(got, { 'GET, no Host': 400, 'GET, two Hosts': 400, 'PUT, no Host': 400 });
  });

  test('an unsupported HTTP version gets 505', async () => {
    const c = await RawClient.open(w.proxy.url);
    c.write(`GET ${account}/front/a.txt HTTP/2.0\r\nHost: x\r\n\r\n`);
    const r = await c.read();
    assert.equal(r.status, 505);
    await c.closedByProxy();
  });

  test('a 70 KiB header sent in pieces gets 431 and a close', async () => {
    const c = await RawClient.open(w.proxy.url);
    c.write(`GET ${account}/front/a.txt HTTP/1.1\r\nHost: ${host()}\r\nX-Auth-Token: ${w.token}\r\n`);
    const filler = `X-Big: ${'a'.repeat(70 * 1024)}\r\n`;
    for (let i = 0; i < filler.length; i += 8 * 1024) {
      if (c.closed) break;
      c.write(filler.slice(i, i + 8 * 1024));
      await new Promise((r) => setImmediate(r));
    }
    if (!c.closed) c.write('\r\n');
    const r = await c.read();
    assert.equal(r.status, 431);
    await c.closedByProxy();
  });

  test('a 70 KiB header that arrives whole gets 431 too', async () => {
    const c = await RawClient.open(w.proxy.url);
    try {
      c.write(get(`${account}/front/a.txt`, `X-Big: ${'a'.repeat(70 * 1024)}\r\n`));
      const r = await c.read();
      assert.equal(r.status, 431);
      // From the proxy itself, not an upstream that was sent the 70 KiB head (that answer names its cloud).
      assert.equal(r.headers['x-ocx-service-provider'], undefined, 'the head was forwarded upstream');
      assert.match(r.headers.connection ?? '', /close/i);
      await c.closedByProxy();
    } finally {
      c.close();
    }
  });

  test('Connection: close is honoured: the answer says close and the server ends the connection', async () => {
    const c = await RawClient.open(w.proxy.url);
    c.write(get(`${account}/front/a.txt`, 'Connection: close\r\n'));
    const r = await c.read();
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'AAAA first object');
    assert.match(r.headers.connection ?? '', /close/i);
    await c.closedByProxy();
    assert.equal(c.pending.length, 0);
  });

  test('Connection: close on a request with a body is honoured too', async () => {
    const c = await RawClient.open(w.proxy.url);
    c.write(
      `PUT ${account}/front/c.txt HTTP/1.1\r\nHost: ${host()}\r\nX-Auth-Token: ${w.token}\r\nConnection: close\r\n` +
        'Content-Length: 3\r\n\r\nccc',
    );
    const r = await c.read('PUT');
    assert.equal(r.status, 201);
    assert.match(r.headers.connection ?? '', /close/i);
    await c.closedByProxy();
    assert.equal((await sp1Object('/front/c.txt')).body.toString(), 'ccc');
  });

  test('an HTTP/1.0 request is answered (not chunked) and the connection closed', async () => {
    for (const path of [`${account}/front/a.txt`, `${account}/front?format=json`]) {
      const c = await RawClient.open(w.proxy.url);
      c.write(`GET ${path} HTTP/1.0\r\nHost: ${host()}\r\nX-Auth-Token: ${w.token}\r\n\r\n`);
      const r = await c.read();
      assert.equal(r.status, 200, path);
      assert.equal(r.headers['transfer-encoding'], undefined, `${path}: no chunked coding to an HTTP/1.0 client`);
      await c.closedByProxy();
      if (path.endsWith('a.txt')) assert.equal(r.body.toString(), 'AAAA first object');
      else assert.ok((JSON.parse(r.body.toString()) as { name: string }[]).some((o) => o.name === 'a.txt'));
    }
  });

  test('HEAD: no body, the object’s Content-Length, and the connection still usable', async () => {
    const c = await RawClient.open(w.proxy.url);
    try {
      c.write(
        `HEAD ${account}/front/big.bin HTTP/1.1\r\nHost: ${host()}\r\nX-Auth-Token: ${w.token}\r\n\r\n` +
          get(`${account}/front/a.txt`),
      );
      const h = await c.read('HEAD');
      assert.equal(h.status, 200);
      assert.equal(h.headers['content-length'], String(big.length));
      assert.equal(h.headers.etag?.replace(/"/g, ''), md5(big));
      const next = await c.read();
      assert.equal(next.status, 200, 'no body bytes of the HEAD leaked into the next answer');
      assert.equal(next.body.toString(), 'AAAA first object');
    } finally {
      c.close();
    }
  });

  test('HEAD without a token: 401 with no body, and the connection carries the next request', async () => {
    const c = await RawClient.open(w.proxy.url);
    try {
      c.write(`HEAD ${account}/front/a.txt HTTP/1.1\r\nHost: ${host()}\r\n\r\n${get(`${account}/front/b.txt`)}`);
      const h = await c.read('HEAD');
      assert.equal(h.status, 401);
      const next = await c.read();
      assert.equal(next.status, 200, 'no body bytes of the HEAD answer leaked into the next one');
      assert.equal(next.body.toString(), 'BBBB the second one');
    } finally {
      c.close();
    }
  });

  test('a chunked PUT to Swift arrives intact; the connection carries the next request', async () => {
    const data = Buffer.alloc(300_001);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31 + 7) & 0xff;
    const c = await RawClient.open(w.proxy.url);
    try {
      c.write(
        `PUT ${account}/front/chunked.bin HTTP/1.1\r\nHost: ${host()}\r\nX-Auth-Token: ${w.token}\r\n` +
          'Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n',
      );
      // Uneven chunks, with an extension, each written in two pieces split inside its size line.
      const sizes = [1, 4095, 65_536, 100_000, 7, 130_362];
      assert.equal(
        sizes.reduce((a, n) => a + n, 0),
        data.length,
      );
      let off = 0;
      for (const [k, n] of sizes.entries()) {
        const frame = Buffer.concat([
          b(`${n.toString(16)}${k === 2 ? ';ext=1' : ''}\r\n`),
          data.subarray(off, off + n),
          b('\r\n'),
        ]);
        off += n;
        c.write(frame.subarray(0, 1));
        await new Promise((r) => setImmediate(r));
        c.write(frame.subarray(1));
      }
      c.write(`0\r\nX-Trailer: t\r\n\r\n${get(`${account}/front/b.txt`)}`);
      const put = await c.read('PUT');
      assert.equal(put.status, 201, put.body.toString());
      assert.equal(put.headers.etag?.replace(/"/g, ''), md5(data));
      const next = await c.read();
      assert.equal(next.status, 200);
      assert.equal(next.body.toString(), 'BBBB the second one');
      const stored = await sp1Object('/front/chunked.bin');
      assert.equal(stored.status, 200);
      assert.equal(stored.body.length, data.length);
      assert.equal(md5(stored.body), md5(data));
    } finally {
      c.close();
    }
  });

  test('Expect: 100-continue gets "HTTP/1.1 100 Continue" before the final status, and the upload is stored', async () => {
    const data = Buffer.from('sent after 100 Continue');
    const c = await RawClient.open(w.proxy.url);
    try {
      c.write(
        `PUT ${account}/front/expect.txt HTTP/1.1\r\nHost: ${host()}\r\nX-Auth-Token: ${w.token}\r\n` +
          `Expect: 100-continue\r\nContent-Length: ${data.length}\r\n\r\n`,
      );
      const interim = await c.read('PUT');
      assert.equal(interim.status, 100);
      assert.match(interim.headText, /^HTTP\/1\.1 100 Continue\r\n/);
      c.write(data);
      const final = await c.read('PUT');
      assert.equal(final.status, 201, final.body.toString());
      assert.equal((await sp1Object('/front/expect.txt')).body.toString(), data.toString());
    } finally {
      c.close();
    }
  });

  test('Expect: 100-continue with a token Keystone does not know gets 401 and no 100 Continue', async () => {
    const c = await RawClient.open(w.proxy.url);
    try {
      c.write(
        `PUT ${account}/front/expect-denied.txt HTTP/1.1\r\nHost: ${host()}\r\nX-Auth-Token: not-a-token\r\n` +
          `Expect: 100-continue\r\nContent-Length: 5\r\n\r\n`,
      );
      const first = await c.read('PUT');
      assert.equal(first.status, 401, 'the first answer is the refusal, not 100 Continue');
      assert.match(first.headText, /\r\nconnection: close\r\n/i);
      await c.closedByProxy();
    } finally {
      c.close();
    }
    assert.equal((await sp1Object('/front/expect-denied.txt')).status, 404);
  });

  test('a request head that arrives one byte at a time is answered', async () => {
    const c = await RawClient.open(w.proxy.url);
    try {
      for (const byte of Buffer.from(get(`${account}/front/a.txt`))) {
        c.write(Buffer.from([byte]));
        await new Promise((r) => setImmediate(r));
      }
      const r = await c.read();
      assert.equal(r.status, 200);
      assert.equal(r.body.toString(), 'AAAA first object');
    } finally {
      c.close();
    }
  });

  test('96 KiB of pipelined GETs in one write (more than a head may be) are all answered, in order', async () => {
    const c = await RawClient.open(w.proxy.url);
    try {
      const count = Math.ceil((96 * 1024) / get(`${account}/front/a.txt`).length);
      const names = Array.from({ length: count }, (_, i) => (i % 3 === 2 ? 'b.txt' : 'a.txt'));
      const all = names.map((n) => get(`${account}/front/${n}`)).join('');
      assert.ok(all.length > 64 * 1024);
      c.write(all);
      for (const [i, n] of names.entries()) {
        const r = await c.read();
        assert.equal(r.status, 200, `response ${i}`);
        assert.equal(r.body.toString(), n === 'a.txt' ? 'AAAA first object' : 'BBBB the second one', `response ${i}`);
      }
    } finally {
      c.close();
    }
  });

  test('a client that disconnects mid-upload: no object is stored and the proxy goes on', async () => {
    const c = await RawClient.open(w.proxy.url);
    c.write(
      `PUT ${account}/front/partial.bin HTTP/1.1\r\nHost: ${host()}\r\nX-Auth-Token: ${w.token}\r\n` +
        'Transfer-Encoding: chunked\r\n\r\n',
    );
    c.write(Buffer.concat([b('10000\r\n'), Buffer.alloc(0x10000, 7), b('\r\n8000\r\n'), Buffer.alloc(100, 1)]));
    await new Promise((r) => setTimeout(r, 100));
    c.close();
    await c.closedByProxy();
    // The proxy answers on a new connection; the cut upload left no object behind.
    assert.equal(await (await w.call(`${account}/front/a.txt`)).text(), 'AAAA first object');
    assert.equal((await sp1Object('/front/partial.bin')).status, 404);
    // The same name uploaded whole afterwards is what is stored.
    const r = await w.call(`${account}/front/partial.bin`, { method: 'PUT', body: 'whole' });
    assert.equal(r.status, 201);
    assert.equal((await sp1Object('/front/partial.bin')).body.toString(), 'whole');
    const listing = await sp1Object('/front?format=json');
    const names = (JSON.parse(listing.body.toString()) as { name: string; bytes: number }[]).filter(
      (o) => o.name === 'partial.bin',
    );
    assert.deepEqual(
      names.map((o) => o.bytes),
      [5],
    );
  });

  /**
   * Like python-requests: send `first`, then keep sending (a body) without reading, our side kept open, until the
   * proxy drops the connection or 10 s pass. What came back, and whether the proxy dropped us.
   */
  async function keepSending(first: string): Promise<{ head: string; dropped: boolean }> {
    const u = new URL(w.proxy.url);
    const s = connect({ host: u.hostname, port: Number(u.port), allowHalfOpen: true });
    await once(s, 'connect');
    let text = '';
    let gone = false;
    s.on('data', (d: Buffer) => {
      text += d.toString('latin1');
    });
    s.on('error', () => {
      gone = true;
    });
    s.on('close', () => {
      gone = true;
    });
    try {
      s.write(first);
      const block = Buffer.alloc(256 * 1024, 1);
      const until = Date.now() + 10_000;
      while (!gone && Date.now() < until) {
        if (!s.write(block)) await new Promise((r) => setTimeout(r, 20));
        await new Promise((r) => setImmediate(r));
      }
      return { head: text.slice(0, text.indexOf('\r\n\r\n') + 2), dropped: gone };
    } finally {
      s.destroy();
    }
  }

  test('an upload answered early (401) says Connection: close, and the proxy does not keep taking the body', async () => {
    const r = await keepSending(
      `PUT ${account}/front/denied.bin HTTP/1.1\r\nHost: ${host()}\r\nX-Auth-Token: not-a-token\r\n` +
        `Content-Length: ${1024 * 1024 * 1024}\r\n\r\n`,
    );
    assert.match(r.head, /^HTTP\/1\.1 401 /);
    // Both parts at once, so a failure shows which is still wrong.
    assert.deepEqual(
      { saysClose: /\r\nconnection: close\r\n/i.test(r.head), droppedTheRest: r.dropped },
      { saysClose: true, droppedTheRest: true },
    );
  });

  test('a refused request (400) whose client keeps sending is dropped, not buffered', async () => {
    const r = await keepSending('NOT HTTP AT ALL\r\n\r\n');
    assert.match(r.head, /^HTTP\/1\.1 400 /);
    assert.match(r.head, /\r\nconnection: close\r\n/i);
    assert.ok(r.dropped);
  });

  test('a client that disconnects mid-download does not break the proxy', async () => {
    for (let round = 0; round < 3; round++) {
      const c = await RawClient.open(w.proxy.url);
      c.write(get(`${account}/front/big.bin`));
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('no 256 KiB of the download within 15 s')), 15_000);
        let n = 0;
        c.socket.on('data', (d: Buffer) => {
          n += d.length;
          if (n > 256 * 1024) {
            clearTimeout(t);
            resolve();
          }
        });
      });
      c.close();
    }
    // The proxy still serves the same object whole, on a new connection and through fetch.
    const c = await RawClient.open(w.proxy.url);
    try {
      c.write(get(`${account}/front/big.bin`));
      const r = await c.read('GET', 30_000);
      assert.equal(r.status, 200);
      assert.equal(md5(r.body), md5(big));
    } finally {
      c.close();
    }
    const f = await w.call(`${account}/front/a.txt`);
    assert.equal(await f.text(), 'AAAA first object');
  });
});

// ───────────────────────── upstream quirks ─────────────────────────

/**
 * The home cloud's object store replaced by an upstream that misbehaves on purpose, by the object's name:
 * `chunked` streams without a length, `json` is chunked JSON, `close` is a raw close-delimited answer, `hang` never
 * answers.
 */
const hanging: { name: string; socket: Socket }[] = [];
const quirkyObjectStore: ServiceModule = {
  mount: {
    type: 'object-store',
    name: 'swift',
    prefix: '/object-store',
    catalogPath: '/object-store/v1/AUTH_$(project_id)s',
  },
  plugin: (app) => {
    app.route({
      method: ['GET', 'HEAD'],
      url: '/v1/*',
      exposeHeadRoute: false,
      handler: (req, reply) => {
        const name = req.url.split('?')[0]!.split('/').pop();
        reply.hijack();
        const res = reply.raw;
        if (name === 'chunked' || name === 'json') {
          res.writeHead(200, { 'content-type': name === 'json' ? 'application/json' : 'application/octet-stream' });
          const pieces = name === 'json' ? ['{"objects": [', '"one", ', '"two"', ']}'] : ['one-', 'two-', 'three'];
          const step = (i: number) => {
            if (i === pieces.length) {
              res.end();
              return;
            }
            res.write(pieces[i]);
            setImmediate(() => step(i + 1));
          };
          step(0);
        } else if (name === 'close') {
          req.raw.socket.end('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nread until the upstream closed');
        } else if (name?.startsWith('hang')) {
          hanging.push({ name, socket: req.raw.socket });
        } else {
          // The account and the container `q` exist (the proxy asks where a container lives).
          res.writeHead(204, { 'x-container-object-count': '4' });
          res.end();
        }
      },
    });
  },
};

describe('forwarding against an upstream with quirks (the home cloud’s object store)', () => {
  let w: World;
  let account: string;
  const get = (path: string, version = '1.1') =>
    `GET ${account}/q/${path} HTTP/${version}\r\nHost: proxy\r\nX-Auth-Token: ${w.token}\r\n\r\n`;
  before(async () => {
    w = await startWorld(
      { upstreamTimeoutMs: 3_000 },
      { servicesFor: { idp: [...SERVICES.filter((m) => m.mount.type !== 'object-store'), quirkyObjectStore] } },
    );
    account = `/object-store/v1/AUTH_${w.projectId}`;
  });
  after(async () => {
    await w?.stop();
  });

  test('a chunked upstream answer reaches an HTTP/1.1 client whole, on a connection that stays usable', async () => {
    const c = await RawClient.open(w.proxy.url);
    try {
      c.write(get('chunked') + get('json') + get('chunked'));
      const r = await c.read();
      assert.equal(r.status, 200);
      assert.equal(r.headers['x-ocx-service-provider'], 'idp-admin', 'answered by the quirky home upstream');
      assert.equal(r.body.toString(), 'one-two-three');
      const j = await c.read();
      assert.equal(j.status, 200);
      assert.deepEqual(JSON.parse(j.body.toString()), { objects: ['one', 'two'] });
      assert.equal((await c.read()).body.toString(), 'one-two-three');
    } finally {
      c.close();
    }
  });

  test('HEAD of an upstream answer of unknown length: no body, no framing headers, the connection goes on', async () => {
    const c = await RawClient.open(w.proxy.url);
    try {
      c.write(`HEAD ${account}/q/chunked HTTP/1.1\r\nHost: proxy\r\nX-Auth-Token: ${w.token}\r\n\r\n${get('json')}`);
      const h = await c.read('HEAD');
      assert.equal(h.status, 200);
      assert.equal(h.headers['transfer-encoding'], undefined);
      const j = await c.read();
      assert.deepEqual(JSON.parse(j.body.toString()), { objects: ['one', 'two'] });
    } finally {
      c.close();
    }
  });

  test('a close-delimited upstream answer is relayed whole, and the client connection still serves the next', async () => {
    const c = await RawClient.open(w.proxy.url);
    try {
      c.write(get('close') + get('chunked'));
      const r = await c.read();
      assert.equal(r.status, 200);
      assert.equal(r.body.toString(), 'read until the upstream closed');
      assert.equal((await c.read()).body.toString(), 'one-two-three');
    } finally {
      c.close();
    }
  });

  test('an HTTP/1.0 client gets an upstream answer of unknown length without chunked coding', async () => {
    const c = await RawClient.open(w.proxy.url);
    c.write(get('chunked', '1.0'));
    await c.closedByProxy();
    const r = await c.read();
    assert.equal(r.status, 200);
    assert.equal(r.headers['transfer-encoding'], undefined, 'HTTP/1.0 has no chunked coding (RFC 9112 §6.1)');
    assert.equal(r.body.toString(), 'one-two-three');
  });

  test('a client that leaves while the upstream is thinking: the upstream request is cancelled, not timed out', async () => {
    const c = await RawClient.open(w.proxy.url);
    c.write(get('hang-left'));
    const up = await waitFor('the upstream to get the request', async () =>
      hanging.find((h) => h.name === 'hang-left'),
    );
    const upstreamClosed = once(up.socket, 'close');
    c.close();
    await upstreamClosed;
    const entry = await waitFor('the access log line', async () =>
      w.logs
        .map((l) => JSON.parse(l) as { msg?: string; path?: string; status?: number })
        .find((l) => l.msg === 'request' && l.path?.endsWith('/q/hang-left')),
    );
    assert.notEqual(
      entry.status,
      504,
      'the upstream connection was closed by the headers timeout, not by the client leaving',
    );
  });

  test('an upstream that never answers: 504 from the proxy, and the client connection goes on', async () => {
    const c = await RawClient.open(w.proxy.url);
    try {
      c.write(get('hang'));
      const r = await c.read('GET', 20_000);
      assert.equal(r.status, 504, r.body.toString());
      // What the access log says of a timed-out upstream (the test above relies on it).
      const entry = w.logs
        .map((l) => JSON.parse(l) as { msg?: string; path?: string; status?: number })
        .find((l) => l.msg === 'request' && l.path?.endsWith('/q/hang'));
      assert.equal(entry?.status, 504);
      c.write(get('chunked'));
      assert.equal((await c.read()).body.toString(), 'one-two-three');
    } finally {
      c.close();
    }
  });
});
