/**
 * What the proxy's listener answers before the engine: nginx's stream questions (engine/describe.ts), `/metrics`,
 * `/healthz`, `/.ocx-proxy` (who this proxy is) and peer token injections; every other request is the engine's.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { decide, isDecideRequest } from './engine/describe.ts';
import type { Engine } from './engine.ts';
import { errorResponse } from './errors.ts';
import type { ProxyMetrics } from './metrics.ts';
import type { NativeLane } from './native/lane.ts';

export function proxyRoutes(o: {
  engine: Engine;
  lane: NativeLane | undefined;
  metrics: ProxyMetrics;
  logger: Logger;
  proxyId: string;
  homeId: string;
}): (req: IncomingMessage, res: ServerResponse) => void {
  const { engine, lane, metrics, logger, proxyId, homeId } = o;
  return (req, res) => {
    // nginx asking where a stream goes (engine/describe.ts).
    if (lane && isDecideRequest(req, lane.decideSecret)) {
      void decide(engine, req, res);
      return;
    }
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const path = q < 0 ? target : target.slice(0, q);
    if (path === '/metrics') {
      (lane ? lane.drain().catch(() => undefined) : Promise.resolve())
        .then(() => metrics.registry.metrics())
        .then((text) => {
          res.writeHead(200, { 'content-type': metrics.registry.contentType });
          res.end(text);
        })
        .catch(() => {
          res.writeHead(500);
          res.end();
        });
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok\n');
      return;
    }
    if (path === '/.ocx-proxy') {
      const body = JSON.stringify({ ocx_proxy: { id: proxyId, home: homeId } });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
      res.end(body);
      return;
    }
    if (path === '/ocx-proxy/v1/injections' && req.method === 'POST') {
      engine.acceptInjection(req, res).catch((err: unknown) => {
        logger.warn({ err: { message: (err as Error).message } }, 'injection failed');
        if (!res.headersSent) engine.send(res, errorResponse(undefined, 500, 'injection failed'));
      });
      return;
    }
    void engine.handle(req, res);
  };
}
