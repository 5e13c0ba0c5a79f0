/**
 * Reference point for `npm run bench:proxy`, never used by the product: the least an HTTP relay written in Node
 * can do per call — parse the request head, forward it on a kept-alive raw TCP connection, read a
 * Content-Length-framed answer, write it back. No authentication, routing, logging or metrics. What the bench
 * prints for it is the floor any Node proxy stands on in the same run; the gap from it to nginx is the runtime's.
 *
 * Usage: node bench/reference-relay.ts UPSTREAM_URL — prints `listening PORT` (an ephemeral loopback port).
 */
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';

const upstream = new URL(process.argv[2]!);
const idle: Socket[] = [];

function upstreamSocket(): Socket {
  const s = idle.pop();
  if (s) return s;
  return connect({ host: upstream.hostname, port: Number(upstream.port), noDelay: true });
}

function exchange(head: string, done: (response: Buffer) => void): void {
  const s = upstreamSocket();
  let buf: Buffer | undefined;
  const onData = (d: Buffer) => {
    buf = buf ? Buffer.concat([buf, d]) : d;
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0) return;
    const m = /\r\ncontent-length: *(\d+)/i.exec(buf.toString('latin1', 0, end));
    const total = end + 4 + (m ? Number(m[1]) : 0);
    if (buf.length < total) return;
    s.off('data', onData);
    idle.push(s);
    done(buf.subarray(0, total));
  };
  s.on('data', onData);
  s.write(head, 'latin1');
}

createServer({ noDelay: true }, (client) => {
  client.on('error', () => undefined);
  client.on('data', (d: Buffer) => {
    const end = d.indexOf('\r\n\r\n');
    if (end < 0) return client.destroy(); // requests here are small GETs that come in one read
    const lines = d.toString('latin1', 0, end).split('\r\n');
    const kept = lines.slice(1).filter((l) => !/^(host|connection|keep-alive):/i.test(l));
    const head = `${lines[0]}\r\nhost: ${upstream.host}\r\n${kept.join('\r\n')}\r\n\r\n`;
    exchange(head, (response) => client.write(response));
  });
}).listen(0, '127.0.0.1', function (this: ReturnType<typeof createServer>) {
  process.stdout.write(`listening ${(this.address() as AddressInfo).port}\n`);
});
