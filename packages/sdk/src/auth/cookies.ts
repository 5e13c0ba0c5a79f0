/**
 * A tiny cookie jar for the K2K SAML exchange: enough for Shibboleth / mod_auth_mellon session cookies
 * (name=value, Path, Domain, Max-Age/Expires, Secure). Not a general-purpose browser jar.
 */
interface Cookie {
  name: string;
  value: string;
  host: string;
  /** Domain attribute given: also sent to subdomains. */
  domainMatch: boolean;
  path: string;
  secure: boolean;
  expiresAt?: number | undefined;
}

export class CookieJar {
  readonly #cookies: Cookie[] = [];

  /** Store the Set-Cookie headers of a response to `url`. */
  store(url: string, setCookies: readonly string[]): void {
    const u = new URL(url);
    for (const header of setCookies) {
      const [pair, ...attrs] = header.split(';');
      const eq = pair?.indexOf('=') ?? -1;
      if (!pair || eq <= 0) continue;
      const cookie: Cookie = {
        name: pair.slice(0, eq).trim(),
        value: pair.slice(eq + 1).trim(),
        host: u.hostname,
        domainMatch: false,
        path: defaultPath(u.pathname),
        secure: false,
      };
      for (const a of attrs) {
        const [k, ...rest] = a.split('=');
        const key = k?.trim().toLowerCase();
        const val = rest.join('=').trim();
        if (key === 'path' && val.startsWith('/')) cookie.path = val;
        else if (key === 'domain' && val) {
          cookie.host = val.replace(/^\./, '').toLowerCase();
          cookie.domainMatch = true;
        } else if (key === 'secure') cookie.secure = true;
        else if (key === 'max-age' && /^-?\d+$/.test(val)) cookie.expiresAt = Date.now() + Number(val) * 1000;
        else if (key === 'expires' && cookie.expiresAt === undefined) {
          const t = Date.parse(val);
          if (!Number.isNaN(t)) cookie.expiresAt = t;
        }
      }
      const i = this.#cookies.findIndex(
        (c) => c.name === cookie.name && c.host === cookie.host && c.path === cookie.path,
      );
      if (i >= 0) this.#cookies.splice(i, 1);
      if (cookie.expiresAt === undefined || cookie.expiresAt > Date.now()) this.#cookies.push(cookie);
    }
  }

  /** The Cookie header value for a request to `url` (undefined when none applies). */
  header(url: string): string | undefined {
    const u = new URL(url);
    const host = u.hostname.toLowerCase();
    const now = Date.now();
    const matching = this.#cookies.filter(
      (c) =>
        (c.host === host || (c.domainMatch && host.endsWith(`.${c.host}`))) &&
        pathMatches(u.pathname, c.path) &&
        (!c.secure || u.protocol === 'https:') &&
        (c.expiresAt === undefined || c.expiresAt > now),
    );
    if (matching.length === 0) return undefined;
    matching.sort((a, b) => b.path.length - a.path.length);
    return matching.map((c) => `${c.name}=${c.value}`).join('; ');
  }

  get size(): number {
    return this.#cookies.length;
  }
}

function defaultPath(pathname: string): string {
  const i = pathname.lastIndexOf('/');
  return i <= 0 ? '/' : pathname.slice(0, i);
}

function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}
