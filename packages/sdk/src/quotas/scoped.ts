/**
 * A connection scoped to another project of the same cloud, from the same credentials: the connection's token is
 * exchanged for one scoped to that project (Keystone `token` method, which also works for K2K federated tokens),
 * and the result is cached per (connection, project) for as long as the connection keeps the same token.
 */
import { TokenAuth } from '../auth/plugins.ts';
import { CloudConnection } from '../multicloud/connection.ts';
import type { Connection } from '../multicloud/types.ts';
import { createSession } from '../session/session.ts';

interface Scoped {
  baseToken: string;
  conn: Connection;
}

const cache = new WeakMap<Connection, Map<string, Scoped>>();

/**
 * The connection itself when its token is already scoped to `projectId`; else a connection whose session holds a
 * token for `projectId` (its catalog is that project's, so Cinder/Swift URLs carry the right project).
 */
export async function connectionForProject(
  conn: Connection,
  projectId: string,
  opts: { signal?: AbortSignal | undefined } = {},
): Promise<Connection> {
  const access = await conn.session.getAccess({ signal: opts.signal });
  if (access.project?.id === projectId) return conn;
  let perConn = cache.get(conn);
  if (!perConn) {
    perConn = new Map();
    cache.set(conn, perConn);
  }
  const hit = perConn.get(projectId);
  if (hit && hit.baseToken === access.token) return hit.conn;
  if (hit) void hit.conn.session.close().catch(() => undefined);
  const session = createSession(conn.config, {
    auth: new TokenAuth({
      authUrl: access.identityUrl,
      token: access.token,
      scope: { kind: 'project', id: projectId },
    }),
    transport: conn.session.transport,
    region: conn.region || undefined,
  });
  const scoped = new CloudConnection({
    name: conn.name,
    config: conn.config,
    session,
    via: conn.via,
    home: conn.home,
    tags: conn.tags,
  });
  perConn.set(projectId, { baseToken: access.token, conn: scoped });
  return scoped;
}
