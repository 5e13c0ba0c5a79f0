/**
 * Swift temporary URLs: `temp_url_sig` + `temp_url_expires` (and optional `temp_url_prefix`) signed with an
 * account or container `Temp-URL-Key` (HMAC over "METHOD\nEXPIRES\nPATH", sha1/sha256/sha512, hex or
 * "<digest>:<base64>"). Accepted paths are `/v1/...` as Swift sees them and the same under devcloud's prefix.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const TEMPURL_METHODS = ['GET', 'HEAD', 'PUT', 'POST', 'DELETE'];
const DIGESTS: Record<number, string> = { 40: 'sha1', 64: 'sha256', 128: 'sha512' };

function parseSig(sig: string): { digest: string; raw: Buffer } | undefined {
  const m = /^(sha1|sha256|sha512):(.+)$/.exec(sig);
  if (m) {
    const raw = Buffer.from(m[2]!.replaceAll('-', '+').replaceAll('_', '/'), 'base64');
    return { digest: m[1]!, raw };
  }
  const digest = DIGESTS[sig.length];
  if (!digest || !/^[0-9a-f]+$/i.test(sig)) return undefined;
  return { digest, raw: Buffer.from(sig, 'hex') };
}

function parseExpires(v: string): number | undefined {
  if (/^\d+$/.test(v)) return Number(v);
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.floor(t / 1000);
}

/**
 * Is this request allowed by a temp URL signature? `paths` are the object paths the client may have signed
 * (e.g. '/v1/AUTH_x/c/o' and '/object-store/v1/AUTH_x/c/o'); `containerPaths` the same for the container,
 * used with temp_url_prefix.
 */
export function tempUrlAllows(args: {
  method: string;
  query: Record<string, string | undefined>;
  objectName: string;
  paths: string[];
  containerPaths: string[];
  keys: string[];
}): boolean {
  const { query } = args;
  const sigRaw = query.temp_url_sig;
  const expRaw = query.temp_url_expires;
  if (!sigRaw || !expRaw || args.keys.length === 0) return false;
  const expires = parseExpires(expRaw);
  if (expires === undefined || expires * 1000 <= Date.now()) return false;
  const sig = parseSig(sigRaw);
  if (!sig) return false;
  const prefix = query.temp_url_prefix;
  let subjects: string[];
  if (prefix !== undefined) {
    if (!args.objectName.startsWith(prefix)) return false;
    subjects = args.containerPaths.map((p) => `prefix:${p}/${prefix}`);
  } else {
    subjects = args.paths;
  }
  // HEAD may use a GET, PUT or POST signature, as in Swift.
  const methods = args.method === 'HEAD' ? ['HEAD', 'GET', 'PUT', 'POST'] : [args.method];
  if (!TEMPURL_METHODS.includes(args.method)) return false;
  for (const key of args.keys) {
    for (const method of methods) {
      for (const subject of subjects) {
        const mac = createHmac(sig.digest, key).update(`${method}\n${expRaw}\n${subject}`).digest();
        if (mac.length === sig.raw.length && timingSafeEqual(mac, sig.raw)) return true;
      }
    }
  }
  return false;
}
