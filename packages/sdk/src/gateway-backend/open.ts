/**
 * `openCloud`: one clouds.yaml cloud + region as a `CloudLayer`, whichever way it is reached — REST to its own
 * APIs (`connectCloud`), or gRPC to an OCX gateway when its entry has `gateway:` (`GatewayCloud`, logging in
 * with the entry's `auth` to the home Keystone the gateway trusts, or — an application credential without
 * `auth_url` — through the gateway's AuthService). `close()` releases what it made.
 */
import { type ConnectCloudOptions, connectCloud } from '../cloud/connect.ts';
import type { CloudLayer } from '../cloud/layer.ts';
import { loadCloudsConfig } from '../config/loader.ts';
import type { CloudConfig } from '../config/types.ts';
import { createSession } from '../session/session.ts';
import { exchangesThroughGateway, GatewayApplicationCredentialAuth } from './app-credential.ts';
import { GatewayCloud } from './gateway-cloud.ts';

export function openCloud(opts: ConnectCloudOptions = {}): CloudLayer {
  if (opts.session) return connectCloud(opts);
  const config: CloudConfig =
    typeof opts.cloud === 'object'
      ? opts.cloud
      : (opts.config ?? loadCloudsConfig()).getCloud(opts.cloud, { region: opts.region });
  if (!config.gateway) return connectCloud({ ...opts, cloud: config });
  const auth = exchangesThroughGateway(config) ? new GatewayApplicationCredentialAuth(config) : undefined;
  const session = createSession(config, {
    ...(opts.sessionOptions ?? {}),
    region: opts.region,
    ...(auth ? { auth } : {}),
  });
  return new GatewayCloud({ config, session, options: opts, ownsSession: true });
}
