// clouds.yaml `gateway:` (OCX extension) → GatewayConfig. The shape was checked by schema.ts already (url, TLS
// keys, cert with key); this resolves defaults and the TLS rule openstacksdk uses for a cloud's own `verify`,
// `insecure` and `cacert`.
import type { OcxError } from '../errors/ocx-error.ts';
import { type Dict, toBoolean } from './normalize.ts';
import type { GatewayConfig } from './types.ts';

export function gatewayOf(g: Dict, cloudName: string, fail: (key: string, problem: string) => OcxError): GatewayConfig {
  const url = String(g.url ?? '');
  if (!url) throw fail('gateway.url', "expected the gateway's URL, e.g. http://127.0.0.1:9914");
  let verify: boolean | string = true;
  if (g.insecure !== undefined && toBoolean(g.insecure)) verify = false;
  if (g.verify !== undefined) verify = toBoolean(g.verify);
  if (verify !== false && typeof g.cacert === 'string' && g.cacert) verify = g.cacert;
  if (url.startsWith('http:') && (typeof verify === 'string' || g.cert))
    throw fail('gateway.url', `TLS settings need an https:// gateway URL, got '${url}'`);
  const out: GatewayConfig = {
    url: url.replace(/\/+$/, ''),
    cloud: typeof g.cloud === 'string' && g.cloud ? g.cloud : cloudName,
    region: typeof g.region === 'string' ? g.region : '',
    verify,
  };
  if (typeof g.cert === 'string') out.cert = g.cert;
  if (typeof g.key === 'string') out.key = g.key;
  return out;
}
