/**
 * Reference point for `npm run bench:proxy`, never used by the product: a bare node:http + undici relay — the
 * yardstick issue 12 sets for the proxy's node data plane (the same two libraries the engine listens and forwards
 * with, and nothing else: no authentication, routing, logging or metrics). node:http parses the request, one undici
 * Agent forwards it on kept-alive connections, the answer's body is piped back.
 *
 * Usage: node bench/reference-relay-http.ts UPSTREAM_URL — prints `listening PORT` (an ephemeral loopback port).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { Agent, type Dispatcher } from 'undici';

const upstream = new URL(process.argv[2]!);
const agent = new Agent({ keepAliveTimeout: 60_000 });
const HOP = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'te', 'trailer']);

const server = createServer({ keepAliveTimeout: 65_000, noDelay: true }, (req, res) => {
  const headers: Record<string, string> = {};
  for (const k in req.headers) {
    const v = req.headers[k];
    if (v !== undefined && !HOP.has(k)) headers[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  agent
    .request({
      origin: upstream.origin,
      path: req.url ?? '/',
      method: (req.method ?? 'GET') as Dispatcher.HttpMethod,
      headers,
      body: req.method === 'GET' || req.method === 'HEAD' ? undefined : req,
      headersTimeout: 60_000,
    })
    .then(async (r) => {
      const out: Record<string, string | string[]> = {};
      for (const k in r.headers) {
        const v = r.headers[k];
        if (v !== undefined && !HOP.has(k)) out[k] = v;
      }
      res.writeHead(r.statusCode, out);
      await pipeline(r.body, res);
    })
    .catch(() => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
});
