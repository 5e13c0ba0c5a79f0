/**
 * A URL fit for an error or a log line: user info removed and the values of query parameters that may carry
 * secrets (tokens, temp URL signatures, passwords, keys) replaced by `***`. The one rule for SDK and proxy.
 */
export function safeUrl(url: string): string {
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
