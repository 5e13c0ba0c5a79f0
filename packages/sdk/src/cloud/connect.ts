import { type CloudsConfig, loadCloudsConfig } from '../config/loader.ts';
import type { CloudConfig } from '../config/types.ts';
import { createSession } from '../session/session.ts';
import type { Session, SessionOptions } from '../session/types.ts';
import { Cloud, type CloudOptions } from './cloud.ts';

export interface ConnectCloudOptions extends CloudOptions {
  /** A clouds.yaml cloud name (default: OS_CLOUD / the only cloud), or an already resolved CloudConfig. */
  cloud?: string | CloudConfig | undefined;
  /** Region (default: the cloud's first). */
  region?: string | undefined;
  /** Loaded clouds.yaml (default: loadCloudsConfig() on openstacksdk's search path). */
  config?: CloudsConfig | undefined;
  /** Use this session instead of creating one (then `cloud`, `region`, `config` are ignored). */
  session?: Session | undefined;
  /** Options for the session this creates (transport, token cache, ...). */
  sessionOptions?: SessionOptions | undefined;
}

/**
 * One cloud + region as a shade-style `Cloud` (openstacksdk's `openstack.connect(cloud=, region_name=)`).
 * A cloud reached by Keystone-to-Keystone (`federation` in clouds.yaml) gets its home cloud's config from `config`.
 * `cloud.close()` closes the session when this function created it.
 */
export function connectCloud(opts: ConnectCloudOptions = {}): Cloud {
  if (opts.session) return new Cloud(opts.session, opts);
  let cloudConfig: CloudConfig;
  let clouds = opts.config;
  if (typeof opts.cloud === 'object') cloudConfig = opts.cloud;
  else {
    clouds ??= loadCloudsConfig();
    cloudConfig = clouds.getCloud(opts.cloud, { region: opts.region });
  }
  let homeCloud: CloudConfig | undefined;
  if (cloudConfig.federation && !cloudConfig.federation.home) {
    clouds ??= loadCloudsConfig();
    homeCloud = clouds.getCloud(cloudConfig.federation.homeCloud);
  }
  const session = createSession(cloudConfig, { ...(opts.sessionOptions ?? {}), region: opts.region, homeCloud });
  return new Cloud(session, { ...opts, ownsSession: true });
}
