/**
 * Swift for devcloud, mounted at /object-store: /info, accounts (AUTH_<project>), containers and objects with
 * streaming bodies on disk, ETag/Range/conditional requests, metadata, server-side copy (COPY and X-Copy-From),
 * static and dynamic large objects, container ACLs and quotas, expiring objects, temporary URLs.
 *
 * Layout: store.ts (state), http.ts (wire conventions), acl.ts, headers.ts, tempurl.ts; one route file per
 * resource (accounts.ts, containers.ts, object-read.ts, object-write.ts with slo.ts), info.ts.
 */
import type { FastifyInstance } from 'fastify';
import type { CloudContext, ServiceModule } from '../context.ts';
import { accountRoutes } from './accounts.ts';
import { containerRoutes } from './containers.ts';
import { installHttp } from './http.ts';
import { infoDoc } from './info.ts';
import { objectReadRoutes } from './object-read.ts';
import { objectWriteRoutes } from './object-write.ts';
import { SwiftStore } from './store.ts';
import { installTempUrlResponses, type TempUrlOptions, tempUrlCheck, tempUrlConfig } from './tempurl.ts';

export interface SwiftOptions {
  tempurl?: TempUrlOptions;
}

/** Swift as a devcloud service; `swiftService({ tempurl: { allowedDigests: ['sha1', 'sha256'] } })` to configure. */
export function swiftService(options: SwiftOptions = {}): ServiceModule {
  const tempurl = tempUrlConfig(options.tempurl);
  async function swiftPlugin(app: FastifyInstance, ctx: CloudContext): Promise<void> {
    const s = new SwiftStore(ctx);
    app.addHook('onClose', async () => s.close());
    installHttp(app, ctx);
    installTempUrlResponses(app);
    app.get('/info', async () => infoDoc(tempurl));
    const checkTempUrl = tempUrlCheck(s, tempurl);
    accountRoutes(app, s);
    containerRoutes(app, s);
    objectReadRoutes(app, s, checkTempUrl);
    objectWriteRoutes(app, s, checkTempUrl);
  }
  return {
    mount: {
      type: 'object-store',
      name: 'swift',
      prefix: '/object-store',
      catalogPath: '/object-store/v1/AUTH_$(project_id)s',
    },
    plugin: swiftPlugin,
  };
}

export const swiftModule: ServiceModule = swiftService();
