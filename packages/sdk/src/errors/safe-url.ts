/**
 * A URL fit for an error or a log line: user info removed and the values of query parameters that may carry
 * secrets (tokens, temp URL signatures, passwords, keys) replaced by `***`. The one rule for SDK and proxy.
 */
export function safeUrl(url: string): string {
  // Every request asks for its URL several times (errors, logs, metrics): remember the plain ones (no user info,
  // no query, so nothing secret is kept) instead of parsing them again.
  const plain = !url.includes('@') && !url.includes('?');
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

function parseSafe(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    for (const key of [...u.searchParams.keys()]) {
      if (/token|sig|secret|password|key/i.test(key)) u.searchParams.set(key, '***');
    }
    return u.toString();
  } catch {
    return url.replace(/([?&][^=]*(token|sig|secret|password)[^=]*=)[^&]*/gi, '$1***');
  }
}
