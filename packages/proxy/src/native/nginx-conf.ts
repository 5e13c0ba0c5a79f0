/**
 * The nginx configuration of the native lane (see lane.ts). Two servers:
 * - the public one on `--listen`: `location /` asks ocx_lane.lua whether the engine has published this exact
 *   request's route; if so nginx forwards it itself (kept-alive upstream connections, the header rules of
 *   header-policy.ts, which the engine applies too), otherwise, and for every non-2xx answer, the request goes to
 *   the engine (`@engine`) on its private Unix socket, untouched and unbuffered both ways; image data goes upstream
 *   from nginx once the engine, asked without the body at `/.ocx-decide`, has given its route (`@stream` for uploads:
 *   there the upstream's answer, error or not, is the answer — the body has gone);
 * - the control server on a second private Unix socket, where the engine publishes and purges routes and drains
 *   the lane's observations (metrics and access-log lines).
 */

import {
  DECIDE_HEADER,
  DROPPED_RESPONSE,
  ENGINE_ONLY_REQUEST,
  laneClearedRequestHeaders,
  ROUTE_KEY_REQUEST,
} from '../header-policy.ts';

export interface NginxConfOptions {
  dir: string;
  /** Where ocx_lane.lua lives. */
  luaDir: string;
  modulesDir: string;
  listenHost: string;
  listenPort: number;
  engineSocket: string;
  controlSocket: string;
  enginePid: number;
  /** The proxy id the engine puts on MM-PROXY-LIST. */
  proxyId: string;
  /** Marks nginx's stream questions to the engine (engine/describe.ts); blanked on client requests. */
  decideSecret: string;
  upstreamTimeoutMs: number;
  bodyIdleTimeoutMs: number;
  /** Started by root: workers run as root too, else they could not reach the private sockets. */
  asRoot: boolean;
}

/** Upstream answers the lane hands back to the engine: all 3xx but 304, all 4xx and 5xx nginx can intercept. */
const TO_ENGINE = [
  300, 301, 302, 303, 305, 307, 308, 400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415,
  416, 417, 421, 422, 423, 424, 425, 426, 428, 429, 431, 451, 500, 501, 502, 503, 504, 505, 507, 508,
];

const json = (status: number, message: string) =>
  `default_type application/json; return ${status} '{"error": {"code": ${status}, "message": "${message}"}}';`;

/** The request headers of a request nginx sends to an upstream itself (a published route or a decided stream). */
function upstreamHeaders(o: NginxConfOptions, indent: string): string {
  return [
    'proxy_set_header Host $ocx_host;',
    'proxy_set_header Connection "";',
    'proxy_set_header X-Auth-Token $ocx_token;',
    `proxy_set_header MM-Proxy-List ${o.proxyId};`,
    'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
    `proxy_set_header ${DECIDE_HEADER} "";`,
    // Transfer-Encoding is nginx's own (its default `$proxy_internal_chunked`): blanking it would send a chunked
    // upload's chunks with no header saying so.
    ...laneClearedRequestHeaders()
      .filter((h) => h !== 'transfer-encoding')
      .map((h) => `proxy_set_header ${h} "";`),
    ...[...DROPPED_RESPONSE].map((h) => `proxy_hide_header ${h};`),
    'add_header X-OCX-Service-Provider $ocx_target always;',
    'proxy_connect_timeout 10s;',
    `proxy_read_timeout ${Math.max(1, o.upstreamTimeoutMs)}ms;`,
    `proxy_send_timeout ${Math.max(1, o.bodyIdleTimeoutMs)}ms;`,
  ]
    .map((l) => indent + l)
    .join('\n');
}

export function nginxConf(o: NginxConfOptions): string {
  const listen = o.listenHost.includes(':') ? `[${o.listenHost}]:${o.listenPort}` : `${o.listenHost}:${o.listenPort}`;
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((t) => `  ${t}_temp_path ${o.dir}/tmp-${t};`)
    .join('\n');
  return `# Written by ocx proxy (packages/proxy/src/native/nginx-conf.ts) for this run only.
${o.asRoot ? 'user root root;\n' : ''}worker_processes 1;
# Published routes hold remote tokens in shared memory: no core dump may carry them to disk.
worker_rlimit_core 0;
daemon off;
pid ${o.dir}/nginx.pid;
error_log stderr warn;
load_module ${o.modulesDir}/ndk_http_module.so;
load_module ${o.modulesDir}/ngx_http_lua_module.so;
events { worker_connections 4096; }
http {
  access_log off;
  server_tokens off;
${temp}
  lua_package_path "${o.luaDir}/?.lua;;";
  lua_shared_dict ocx_routes 32m;
  lua_shared_dict ocx_observed 64m;
  init_worker_by_lua_block {
    local lane = require("ocx_lane")
    lane.engine_only_headers({ ${ENGINE_ONLY_REQUEST.map((h) => `"${h}"`).join(', ')} })
    lane.route_key_header("${ROUTE_KEY_REQUEST}")
    lane.watch(${o.enginePid})
  }
  underscores_in_headers on;
  ignore_invalid_headers off;
  merge_slashes off;
  large_client_header_buffers 4 64k;
  keepalive_timeout 65s;
  keepalive_requests 1000000;
  client_max_body_size 0;
  proxy_http_version 1.1;
  proxy_buffering off;
  proxy_request_buffering off;
  proxy_max_temp_file_size 0;
  proxy_buffer_size 256k;
  proxy_buffers 4 256k;
  proxy_busy_buffers_size 256k;
  client_body_buffer_size 256k;
  proxy_next_upstream off;
  proxy_pass_header Server;
  proxy_pass_header Date;

  upstream ocx_engine {
    server unix:${o.engineSocket};
    keepalive 64;
  }
  upstream ocx_upstream {
    server 0.0.0.1:1;
    balancer_by_lua_block { require("ocx_lane").balance() }
    keepalive 256;
  }

  server {
    listen ${listen};
    set $ocx_host '';
    set $ocx_path '';
    set $ocx_token '';
    set $ocx_target '';
    set $ocx_addr '';
    set $ocx_port '';
    set $ocx_service '';
    # URI targets, not named locations: a request line nginx could not parse has no URI, and a redirect to a named
    # location then fails ("empty URI in redirect to named location") into nginx's own HTML 500.
    error_page 400 /.ocx-error/400;
    error_page 414 /.ocx-error/414;
    error_page 431 494 /.ocx-error/431;

    location / {
      access_by_lua_block { require("ocx_lane").access() }
      log_by_lua_block { require("ocx_lane").log() }
      proxy_pass http://ocx_upstream$ocx_path;
${upstreamHeaders(o, '      ')}
      proxy_intercept_errors on;
      error_page ${TO_ENGINE.join(' ')} = @engine;
    }

    # A decided stream (an upload): the body has gone upstream, so the upstream's answer, error or not, is the answer.
    location @stream {
      log_by_lua_block { require("ocx_lane").log() }
      proxy_pass http://ocx_upstream$ocx_path;
${upstreamHeaders(o, '      ')}
      proxy_intercept_errors off;
    }

    # nginx's question to the engine (ocx_lane.lua stream()): the client's method and target in the query, its
    # headers, no body, the lane's secret.
    location = /.ocx-decide {
      internal;
      proxy_pass http://ocx_engine;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header Transfer-Encoding "";
      proxy_set_header Expect "";
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-OCX-Peer $remote_addr;
      proxy_set_header ${DECIDE_HEADER} ${o.decideSecret};
      proxy_read_timeout ${Math.max(1, o.upstreamTimeoutMs)}ms;
    }

    location @engine {
      proxy_pass http://ocx_engine;
      proxy_set_header ${DECIDE_HEADER} "";
      proxy_set_header Host $http_host;
      proxy_set_header Connection "";
      proxy_set_header Expect "";
      proxy_set_header X-OCX-Peer $remote_addr;
      proxy_read_timeout 3600s;
      proxy_send_timeout 3600s;
      error_page 502 504 = @engine_gone;
    }
    location @engine_gone { ${json(503, 'The federation proxy is restarting; retry later.')} }
    location = /.ocx-error/400 { internal; ${json(400, 'The request is malformed.')} }
    location = /.ocx-error/414 { internal; ${json(414, 'The request target is too long.')} }
    location = /.ocx-error/431 { internal; ${json(431, 'The request head is too large.')} }
  }

  server {
    listen unix:${o.controlSocket};
    client_body_buffer_size 32m;
    client_max_body_size 32m;
    location / { content_by_lua_block { require("ocx_lane").control() } }
  }
}
`;
}
