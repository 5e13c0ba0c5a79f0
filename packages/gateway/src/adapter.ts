/**
 * The gateway's Node request handler: connect-node's adapter (the same router, the same universal request and
 * response), plus one guarantee it lacks — every call is answered. When connect-es fails to write its own answer
 * (seen: a request whose JSON error message held half a surrogate pair, which `encodeURIComponent` refuses while
 * the grpc-message trailer is built), connect-node only logs the failure with its stack and leaves the stream open,
 * so the caller hangs until its deadline. Here such a call gets INTERNAL in its protocol's shape (no detail, no
 * stack), or, when its answer had already begun, a reset stream / closed connection.
 */
import type http from 'node:http';
import type http2 from 'node:http2';
import { Code, ConnectError, createConnectRouter, createContextValues } from '@connectrpc/connect';
import {
  type ConnectNodeAdapterOptions,
  compressionBrotli,
  compressionGzip,
  universalRequestFromNodeRequest,
  universalResponseToNodeResponse,
} from '@connectrpc/connect-node';

import { BLOB_DOWNLOAD_PATHS, chunkFramesKey, framedBody } from './blob-frames.ts';
import { connectionKey } from './windows.ts';

type Req = http.IncomingMessage | http2.Http2ServerRequest;
type Res = http.ServerResponse | http2.Http2ServerResponse;

const MESSAGE = 'internal error: the gateway could not encode its answer';

/** The two response classes share writeHead's (status, headers) form. */
function head(res: Res, status: number, headers: http.OutgoingHttpHeaders = {}): void {
  (res as http.ServerResponse).writeHead(status, headers);
}

/** INTERNAL in the shape of the request's protocol: gRPC / gRPC-Web trailers-only, or a Connect JSON error. */
function answerInternal(req: Req, res: Res): void {
  const ct = String(req.headers['content-type'] ?? '');
  if (ct.startsWith('application/grpc')) {
    head(res, 200, {
      'content-type': ct.startsWith('application/grpc-web') ? 'application/grpc-web+proto' : 'application/grpc',
      'grpc-status': String(Code.Internal),
      'grpc-message': encodeURIComponent(MESSAGE),
    });
    res.end();
    return;
  }
  const body = JSON.stringify({ code: 'internal', message: MESSAGE });
  head(res, 500, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** gRPC (not gRPC-Web, not Connect) in the protobuf encoding, to DownloadImage or GetObject. */
function isGrpcBlobDownload(req: Req): boolean {
  const ct = String(req.headers['content-type'] ?? '');
  return (ct === 'application/grpc' || ct === 'application/grpc+proto') && BLOB_DOWNLOAD_PATHS.has(req.url ?? '');
}

function abandon(res: Res): void {
  const stream = (res as http2.Http2ServerResponse).stream as http2.ServerHttp2Stream | undefined;
  if (stream)
    stream.close(0x2); // NGHTTP2_INTERNAL_ERROR
  else (res as http.ServerResponse).destroy();
}

export function gatewayNodeAdapter(options: ConnectNodeAdapterOptions): (req: Req, res: Res) => void {
  options.acceptCompression ??= [compressionGzip, compressionBrotli];
  const router = createConnectRouter(options);
  options.routes(router);
  const paths = new Map(router.handlers.map((h) => [h.requestPath, h]));
  return (req, res) => {
    const handler = paths.get(req.url?.split('?', 2)[0] ?? '');
    if (!handler) {
      head(res, 404);
      res.end();
      return;
    }
    // The HTTP/2 connection travels with the call, so an upload handler can widen its window (windows.ts).
    const session = 'stream' in req ? req.stream.session : undefined;
    const values = createContextValues().set(connectionKey, session);
    // A gRPC blob download's chunks are framed as they are, past Connect-ES's encoder (blob-frames.ts says why).
    const frames: Uint8Array[] | undefined = session && isGrpcBlobDownload(req) ? [] : undefined;
    values.set(chunkFramesKey, frames);
    const uReq = universalRequestFromNodeRequest(req, res, undefined, values);
    handler(uReq)
      .then((uRes) =>
        universalResponseToNodeResponse(
          frames && uRes.body ? { ...uRes, body: framedBody(uRes.body as AsyncIterable<Uint8Array>, frames) } : uRes,
          res,
        ),
      )
      .catch((reason: unknown) => {
        if (ConnectError.from(reason).code === Code.Aborted) return; // the caller went away
        if (res.writableEnded || res.destroyed) return;
        if (!res.headersSent) answerInternal(req, res);
        else abandon(res);
      });
  };
}
