/**
 * The proxy's header rules, in one table: the engine applies them (engine.ts), and the native lane's nginx
 * configuration and Lua are generated from them (native/nginx-conf.ts), so nginx and the engine cannot drift.
 * Names are lower case.
 */

/** Hop-by-hop (RFC 9110 §7.6.1) and what this proxy answers itself: never passed on, either way. */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  // The client's 100-continue was answered by this proxy; the upstream call sends the body at once.
  'expect',
]);

/** Request headers the proxy consumes or sets itself: never passed upstream as the client sent them. */
export const CONSUMED_REQUEST: ReadonlySet<string> = new Set([
  'x-auth-token',
  'x-service-token',
  'mm-service-provider',
  'mm-project-id',
  'mm-proxy-list',
  'accept-encoding',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-prefix',
  'x-forwarded-for',
  'x-ocx-peer',
]);

/** Response headers never passed to the client. */
export const DROPPED_RESPONSE: ReadonlySet<string> = new Set(['set-cookie']);

/**
 * Request headers whose presence means only the engine may answer: they choose a project or a credential
 * (MM-Project-Id, X-Service-Token), come from a peer (MM-Proxy-List), or ask for what a published route cannot do.
 * A body (Content-Length other than 0) and a Connection header naming other headers count too (lane Lua).
 */
export const ENGINE_ONLY_REQUEST: readonly string[] = [
  'x-service-token',
  'mm-project-id',
  'mm-proxy-list',
  'expect',
  'upgrade',
  'transfer-encoding',
];

/**
 * The request header that chooses the target (mixmatch's routing header): its value is part of a published route's
 * key, so a route worked out for `sp1` answers only requests naming `sp1` — never `sp2`, nor none. Only one such
 * header line with a plain value (`ROUTE_KEY_VALUE`) can be on the lane; anything else goes to the engine.
 */
export const ROUTE_KEY_REQUEST = 'mm-service-provider';
/** A value of ROUTE_KEY_REQUEST the lane keys routes by (a service provider's id, or `default`). */
export const ROUTE_KEY_VALUE = /^[A-Za-z0-9._-]{1,255}$/;

/** Request headers the lane sets itself on a published route (the rest of the cleared ones it blanks). */
export const SET_BY_LANE: ReadonlySet<string> = new Set([
  'host',
  'connection',
  'x-auth-token',
  'mm-proxy-list',
  'x-forwarded-for',
]);

/** What nginx must blank on a published route: every hop-by-hop or consumed header it does not set itself. */
export function laneClearedRequestHeaders(): string[] {
  return [...new Set([...HOP_BY_HOP, ...CONSUMED_REQUEST])].filter((h) => !SET_BY_LANE.has(h));
}

/**
 * The largest request head (request line and headers) passed upstream. OpenStack's API servers refuse bigger heads
 * (node:http and so devcloud: 16 KiB; eventlet: 8 KiB a line; Apache: 8190 bytes a field) and close the connection
 * without reading the body; with a body in flight that close is a reset, and the client would get a 503 for what is
 * its own mistake. The proxy refuses such a head itself with the 431 the service would have sent.
 */
export const UPSTREAM_MAX_HEAD_BYTES = 16 * 1024;
export const UPSTREAM_MAX_FIELD_BYTES = 8190;

/** The header of nginx's stream questions to the engine (engine/describe.ts): set by nginx alone, blanked otherwise. */
export const DECIDE_HEADER = 'x-ocx-decide';
