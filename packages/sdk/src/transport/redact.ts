/**
 * Masking of secrets before anything is logged. Two layers:
 *  1. structural: token headers, secret-bearing JSON keys and SAML documents are replaced;
 *  2. a registry of secret strings seen at runtime (tokens, passwords): every log line is scrubbed of them
 *     (createLogger wires this in), so a token that slips into an unexpected place is still masked.
 */
export const MASK = '***';

const SECRET_HEADERS = new Set([
  'x-auth-token',
  'x-subject-token',
  'x-service-token',
  'x-storage-token',
  'x-auth-key',
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'openstack-auth-receipt',
]);

export function isSecretHeader(name: string): boolean {
  return SECRET_HEADERS.has(name.toLowerCase());
}

export function redactHeaders(
  headers: Headers | Record<string, string | string[] | undefined> | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  const entries: Array<[string, unknown]> = [];
  if (headers instanceof Headers)
    headers.forEach((value, name) => {
      entries.push([name, value]);
    });
  else entries.push(...Object.entries(headers));
  for (const [name, value] of entries) {
    if (value === undefined) continue;
    out[name.toLowerCase()] = isSecretHeader(name)
      ? MASK
      : scrubSecrets(Array.isArray(value) ? value.join(', ') : String(value));
  }
  return out;
}

const SECRET_KEY =
  /(^|_)(password|passcode|secret|passphrase|private_key|blob)$|^(adminpass|admin_pass|auth_token|access_token|refresh_token|id_token|token_id|x-auth-token)$/i;

function redactValue(value: unknown, parentKey: string | undefined, depth: number): unknown {
  if (depth > 40) return MASK;
  if (typeof value === 'string') {
    // JSON embedded in a string (echoed bodies, error details): redact it structurally too.
    const t = value.trimStart();
    if ((t.startsWith('{') || t.startsWith('[')) && value.length < 1_000_000) {
      try {
        return JSON.stringify(redactValue(JSON.parse(value), parentKey, depth + 1));
      } catch {
        // not JSON
      }
    }
    return scrubSecrets(value);
  }
  if (Array.isArray(value)) return value.map((v) => redactValue(v, parentKey, depth + 1));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (SECRET_KEY.test(k) && (v === null || typeof v !== 'object')) out[k] = MASK;
      else if (k === 'id' && parentKey !== undefined && /token$/i.test(parentKey) && typeof v === 'string')
        out[k] = MASK;
      else out[k] = redactValue(v, k, depth + 1);
    }
    return out;
  }
  return value;
}

/** Redact a parsed JSON value (password/secret keys, token.id, registered secrets). */
export function redactJson(value: unknown): unknown {
  return redactValue(value, undefined, 0);
}

const SAML = /<(?:[\w-]+:)?(Envelope|Response|Assertion|EncryptedAssertion|AuthnRequest)\b/;

/** Redact a body for logging. JSON → structural redaction; SAML/XML → summary only; else scrubbed and truncated. */
export function redactBody(body: string | Uint8Array | undefined, maxLength = 4096): string | undefined {
  if (body === undefined) return undefined;
  const text = typeof body === 'string' ? body : Buffer.from(body).toString('utf8');
  if (text.length === 0) return '';
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return truncate(JSON.stringify(redactJson(JSON.parse(text))), maxLength);
    } catch {
      // not JSON after all
    }
  }
  if (SAML.test(text)) return `[SAML document redacted, ${text.length} chars]`;
  if (trimmed.startsWith('<')) return `[XML document redacted, ${text.length} chars]`;
  return truncate(scrubSecrets(text), maxLength);
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…[${text.length - max} more chars]` : text;
}

// ---- runtime secret registry ------------------------------------------------------------------

const MAX_SECRETS = 2000;
const secrets = new Set<string>();

/** Remember a secret (token, password, app credential secret) so that every log line is scrubbed of it. */
export function registerSecret(secret: string | undefined | null): void {
  if (!secret || secret.length < 6) return; // too short to scrub safely (would mangle ordinary words)
  if (secrets.has(secret)) return;
  if (secrets.size >= MAX_SECRETS) {
    const oldest = secrets.values().next().value;
    if (oldest !== undefined) secrets.delete(oldest);
  }
  secrets.add(secret);
}

export function forgetSecret(secret: string): void {
  secrets.delete(secret);
}

/** Replace every registered secret (and its JSON-escaped form) in a string. */
export function scrubSecrets(text: string): string {
  if (secrets.size === 0 || text.length < 6) return text;
  let out = text;
  for (const s of secrets) {
    if (out.includes(s)) out = out.split(s).join(MASK);
  }
  return out;
}
