/**
 * A URL fit for an error or a log line: user info removed and the values of query parameters that may carry
 * secrets (tokens, temp URL signatures, passwords, keys) replaced by `***`. The one rule for SDK and proxy.
 */
export function safeUrl(url: string): string {
  // Every request asks for its URL several times (errors, logs, metrics): remember the ones with nothing secret in
  // them (no user info, no query key that could name a secret) instead of parsing them again. What is remembered
  // is the URL itself, so a URL that may hold a secret is never kept.
  const plain = !url.includes('@') && !hasSecretKey(url);
  if (plain) {
    const hit = plainUrls.get(url);
    if (hit !== undefined) return hit;
  }
  const safe = parseSafe(url);
  if (plain) {
    if (plainUrls.size >= 1000) plainUrls.clear();
    plainUrls.set(url, safe);
  }
  return safe;
}

const plainUrls = new Map<string, string>();
const SECRET_KEY = /token|sig|secret|password|key/i;

/** True when the query could have a key parseSafe masks (a cheap over-approximation: any such word after `?`). */
function hasSecretKey(url: string): boolean {
  const q = url.indexOf('?');
  return q >= 0 && SECRET_KEY.test(url.slice(q));
}

function parseSafe(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    for (const key of [...u.searchParams.keys()]) {
      if (SECRET_KEY.test(key)) u.searchParams.set(key, '***');
    }
    return u.toString();
  } catch {
    return url.replace(/([?&][^=]*(token|sig|secret|password)[^=]*=)[^&]*/gi, '$1***');
  }
}
